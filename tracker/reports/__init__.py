"""Reports: the yearly selection report in HTML, CSV, XLSX, PDF and JSON."""

"""The project after signature: reports, HRDD conditions, tranche payments, grievances (DESIGN 9)."""

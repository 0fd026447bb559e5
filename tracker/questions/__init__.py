"""Questions a call adds to its form, and the applicants' answers (kept as answered)."""

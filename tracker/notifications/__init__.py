"""Messages to applicants and staff about their proposals, in the app and by e-mail."""

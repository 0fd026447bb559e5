"""The agency's identity: its name, logo, colour and the footer's contact and legal links."""

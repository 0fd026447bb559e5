"""The applicant's side: proposals, their sections, partners and documents."""

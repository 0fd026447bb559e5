"""The audit trail: who changed which data a decision rests on, when, from what to what."""

"""The review pipeline: the staff queue, screening, HRDD review, scoring, selection, contracts."""

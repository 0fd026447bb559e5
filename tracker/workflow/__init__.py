"""The workflow engine: state machines as data, one transition service, a tamper-evident history."""

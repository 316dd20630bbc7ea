"""The audit log: every write a person or an API key makes, who, when, from where and what."""

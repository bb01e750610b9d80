"""Local stand-ins for e签宝 and Slack: used by tests, benchmarks and the local run, never by
production."""

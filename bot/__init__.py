"""esign-flow: a Slack bot that shows where an e签宝 identity verification flow stands."""

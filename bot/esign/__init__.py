"""Everything that talks to e签宝: request signing, the outline client, its models and errors."""

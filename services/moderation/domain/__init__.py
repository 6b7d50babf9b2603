"""Pure moderation domain: the charter, the automated checks, the policy and the statement of reasons.

Nothing here talks to a broker, a database or the network: functions take data and return data.
"""

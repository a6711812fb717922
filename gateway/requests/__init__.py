"""requests: the request lifecycle (states, transitions, approval) in front of the release path."""

"""The compute data model of the cloud: its elements, parsing and scope."""

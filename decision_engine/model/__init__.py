"""The compute data model of the cloud: elements, builder and collector."""

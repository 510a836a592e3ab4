"""Building the compute model from the cloud: the parallel builder, its
requests and transport, and the collector that keeps the current model."""

"""ClusterIdentities: a persistent face index for a photo folder."""

__version__ = "0.3.0"

"""ClusterIdentities: a persistent face index for a photo folder."""

__version__ = "0.2.0"

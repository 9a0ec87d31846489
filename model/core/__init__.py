"""The cluster-performance core, split by concern; model.cluster is its facade."""

"""chipwar model: the Mesa market model, its numpy core and leaf modules."""

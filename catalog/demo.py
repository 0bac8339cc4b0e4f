"""Demo catalog. Filled in by the catalog work: real textbooks with their real units and lessons."""


def load():
    raise NotImplementedError


def open_demo_nodes(campaign):
    raise NotImplementedError

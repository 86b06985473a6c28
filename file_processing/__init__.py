"""The container: the example runner of the container contract and its processors."""

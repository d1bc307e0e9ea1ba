"""The automatic-differentiation engine: dispatch (``core``), reverse mode (``reverse``),
forward mode (``forward``), broadcasting (``shapes``), parameter trees (``tree``) and the
public transforms built on them (``transforms``)."""

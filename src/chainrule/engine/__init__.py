"""The automatic-differentiation engine: dispatch and the rule protocol (``core``), rule sugar
(``rules``), reverse mode (``reverse``), forward mode (``forward``), where cotangents are fitted to
their argument's shape (``fitting``), parameter trees (``tree``), the public transforms built on
them (``transforms``) and gradient checkpointing (``remat``). It imports nothing of chainrule above
itself: the primitives install ``unbroadcast`` into ``fitting`` and chainrule.numpy gives tracers
their array methods."""

// shape_ops.cpp: not yet written

// layer_norm.cpp: not yet written

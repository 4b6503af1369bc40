// matmul.cpp: not yet written

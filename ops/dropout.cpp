// dropout.cpp: not yet written

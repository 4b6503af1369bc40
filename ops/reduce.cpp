// reduce.cpp: not yet written

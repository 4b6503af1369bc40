// where.cpp: not yet written

// embedding.cpp: not yet written

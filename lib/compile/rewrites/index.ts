// Registers every rewrite (import order = order tried within a phase).
import './merge';
import './constant-folding';
import './algebraic';
import './noop-shape';
import './stabilize';
import './gemm-epilogue';
import './fusion';

// Control for the ripple-adder loop check: a carry chain written as one
// vector assignment reads as a loop at word level.
module vchain(input [7:0] a, input [7:0] b, input ci, output [7:0] y);
	wire [7:0] p = a ^ b;
	wire [8:0] c;
	assign c[0] = ci;
	assign c[8:1] = (a & b) | (c[7:0] & p);
	assign y = p ^ c[7:0];
endmodule

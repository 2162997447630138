// Control for synth.test: a design with a memory (a 16-entry table read by
// address).  The word-level "no memories" check must reject it.
module memctl(input clk, input [3:0] a, input [7:0] d, input we, output reg [7:0] q);
	reg [7:0] mem [0:15];
	always @(posedge clk) begin
		if (we)
			mem[a] <= d;
		q <= mem[a];
	end
endmodule

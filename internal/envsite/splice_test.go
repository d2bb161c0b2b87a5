package envsite

import (
	"testing"

	ts "github.com/tree-sitter/go-tree-sitter"
)

func TestLineStartEnd(t *testing.T) {
	src := []byte("ab\ncd\n\nef")
	tests := []struct {
		at         uint
		start, end uint
	}{
		{at: 0, start: 0, end: 2},
		{at: 1, start: 0, end: 2},
		{at: 2, start: 0, end: 2}, // the newline belongs to its line
		{at: 3, start: 3, end: 5},
		{at: 4, start: 3, end: 5},
		{at: 6, start: 6, end: 6}, // an empty line
		{at: 7, start: 7, end: 9},
		{at: 9, start: 7, end: 9}, // end of a source with no final newline
	}
	for _, tt := range tests {
		if got := LineStart(src, tt.at); got != tt.start {
			t.Errorf("LineStart(%d) = %d, want %d", tt.at, got, tt.start)
		}
		if got := LineEnd(src, tt.at); got != tt.end {
			t.Errorf("LineEnd(%d) = %d, want %d", tt.at, got, tt.end)
		}
	}
}

func TestContainsAny(t *testing.T) {
	src := []byte("import os\nx = os.environ['A']\ny = 1\n")
	err := Parse(Python, src, func(tr *Tree) error {
		stmts := []*ts.Node{tr.Root.NamedChild(0), tr.Root.NamedChild(1), tr.Root.NamedChild(2)}
		var sub *ts.Node // the subscript inside the second statement
		tr.Walk(func(n *ts.Node) bool {
			if sub == nil && tr.Kind(n) == "subscript" {
				sub = n
			}
			return sub == nil
		})
		if sub == nil {
			t.Fatal("no subscript in the parse")
		}
		tests := []struct {
			name  string
			n     *ts.Node
			nodes []*ts.Node
			want  bool
		}{
			{"none", stmts[1], nil, false},
			{"a node inside", stmts[1], []*ts.Node{sub}, true},
			{"the node itself", stmts[1], []*ts.Node{stmts[1]}, true},
			{"only nodes elsewhere", stmts[0], []*ts.Node{sub, stmts[2]}, false},
			{"an enclosing node is not inside", sub, []*ts.Node{stmts[1]}, false},
			{"one of several", stmts[2], []*ts.Node{sub, stmts[2]}, true},
		}
		for _, tt := range tests {
			if got := ContainsAny(tt.n, tt.nodes); got != tt.want {
				t.Errorf("%s: ContainsAny = %v, want %v", tt.name, got, tt.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

package envsite

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

type flat struct {
	Kind       Kind
	Key        string
	Start, End uint
}

func flatten(sites []Site) []flat {
	var out []flat
	for _, s := range sites {
		out = append(out, flat{s.Kind, s.Key, s.Node.StartByte(), s.Node.EndByte()})
	}
	return out
}

var seeds = []struct {
	g   Grammar
	src string
}{
	{Python, "import os as o\nfrom os import environ, getenv\na = o.environ['A']\nb = environ.get(\"B\", 1)\nc = getenv('C')\nos.environ['D'] = 1\nenvironment = os.environ\n"},
	{Python, "from os import environ as E\nx = E['A']\ny = os.getenv('B')\nz = 'C' in E\n"},
	{Python, "import os\nif 'A' in os.environ and \"B\" not in os.environ: pass\nx = 'C' in os.environ in y\n"},
	{Python, "import os\ndef f():\n    return os.environ.get(\n        'A',  # c\n    )\n"},
	{JavaScript, "const { X, Y: y, Z = 'd', ...r } = process.env;\nconst a = process.env['A'], b = process.env.B;\n({ C } = process.env);\nprocess.env.D = 1;\nconst env = process.environment;\n"},
	{JavaScript, "const k = import.meta.env.VITE_K;\nconst { J } = import.meta.env;\n"},
	{JavaScript, "if (\"A\" in process.env && !('B' in (process.env))) {}\n"},
	{TypeScript, "const k = (process.env as any).K!;\nconst { X } = process.env satisfies object;\nconst y = (<any>process.env).Y;\n"},
	{TSX, "const a = <b>{process.env.A}</b>;\n"},
}

// TestIndexedMatchesWalk checks that the fast site search agrees with
// the full tree walk.
func TestIndexedMatchesWalk(t *testing.T) {
	for _, s := range seeds {
		checkAgree(t, s.g, []byte(s.src), true)
	}
}

func checkAgree(t *testing.T, g Grammar, src []byte, wantSome bool) {
	t.Helper()
	err := Parse(g, src, func(tr *Tree) error {
		fast, slow := flatten(tr.Sites()), flatten(tr.sitesByWalk())
		if diff := cmp.Diff(slow, fast); diff != "" {
			t.Errorf("grammar %d: indexed sites differ from walk (-walk +indexed):\n%s\nsource: %q", g, diff, src)
		}
		if wantSome && len(fast) == 0 {
			t.Errorf("grammar %d: no sites in %q", g, src)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func FuzzIndexedMatchesWalk(f *testing.F) {
	for _, s := range seeds {
		f.Add(uint8(s.g), s.src)
	}
	f.Fuzz(func(t *testing.T, g uint8, src string) {
		checkAgree(t, Grammar(g%uint8(numGrammars)), []byte(src), false)
	})
}

func TestSplice(t *testing.T) {
	got, err := Splice([]byte("abcdef"), []Patch{{4, 5, "E"}, {0, 0, "<"}, {0, 0, ">"}, {1, 3, ""}})
	if err != nil || string(got) != "<>adEf" {
		t.Errorf("Splice = %q, %v", got, err)
	}
	if _, err := Splice([]byte("abc"), []Patch{{0, 2, "x"}, {1, 3, "y"}}); err == nil {
		t.Error("overlapping patches were accepted")
	}
}

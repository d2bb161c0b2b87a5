// Package envsite finds environment-variable reads in Python, JavaScript
// and TypeScript source with tree-sitter. It is shared by the read
// discovery (discover/envread) and the code rewriters (rewrite/python,
// rewrite/javascript), so both agree on what counts as a read.
package envsite

import (
	"errors"
	"fmt"
	"runtime"

	ts "github.com/tree-sitter/go-tree-sitter"
	tsjs "github.com/tree-sitter/tree-sitter-javascript/bindings/go"
	tspy "github.com/tree-sitter/tree-sitter-python/bindings/go"
	tsts "github.com/tree-sitter/tree-sitter-typescript/bindings/go"
)

// Grammar names a tree-sitter grammar.
type Grammar int

// Grammars this package parses.
const (
	Python Grammar = iota
	JavaScript
	TypeScript
	TSX
	numGrammars
)

// pool keeps parsers for one grammar. tree-sitter parsers hold C memory
// and have no finalizer, so the pool is a bounded channel: parsers that do
// not fit are closed instead of being left to a sync.Pool to drop.
type pool struct {
	lang *ts.Language
	ch   chan *ts.Parser
	// kinds maps node kind ids to names, so walks need no cgo string
	// conversion per node.
	kinds []string
}

var pools [numGrammars]*pool

func init() {
	size := 2 * runtime.GOMAXPROCS(0)
	langs := [numGrammars]*ts.Language{
		Python:     ts.NewLanguage(tspy.Language()),
		JavaScript: ts.NewLanguage(tsjs.Language()),
		TypeScript: ts.NewLanguage(tsts.LanguageTypescript()),
		TSX:        ts.NewLanguage(tsts.LanguageTSX()),
	}
	for g, l := range langs {
		kinds := make([]string, l.NodeKindCount())
		for id := range kinds {
			kinds[id] = l.NodeKindForId(uint16(id))
		}
		pools[g] = &pool{lang: l, ch: make(chan *ts.Parser, size), kinds: kinds}
	}
}

func (p *pool) get() (*ts.Parser, error) {
	select {
	case x := <-p.ch:
		return x, nil
	default:
	}
	x := ts.NewParser()
	if err := x.SetLanguage(p.lang); err != nil {
		x.Close()
		return nil, fmt.Errorf("loading tree-sitter grammar: %w", err)
	}
	return x, nil
}

func (p *pool) put(x *ts.Parser) {
	select {
	case p.ch <- x:
	default:
		x.Close()
	}
}

// ErrParse is returned when tree-sitter produced no tree at all.
var ErrParse = errors.New("tree-sitter returned no syntax tree")

// Tree is one parsed file. Its nodes are only valid inside the Parse
// callback that received it.
type Tree struct {
	Grammar Grammar
	Src     []byte
	Root    *ts.Node
	kinds   []string
}

// Kind returns n's node kind without a cgo string conversion.
func (t *Tree) Kind(n *ts.Node) string {
	if n == nil {
		return ""
	}
	id := int(n.KindId())
	if id < len(t.kinds) {
		return t.kinds[id]
	}
	return n.Kind()
}

// Text returns n's source text.
func (t *Tree) Text(n *ts.Node) string {
	if n == nil {
		return ""
	}
	return string(t.Src[n.StartByte():n.EndByte()])
}

// Walk visits every node in pre-order; when fn returns false the node's
// children are skipped.
func (t *Tree) Walk(fn func(n *ts.Node) bool) {
	c := t.Root.Walk()
	defer c.Close()
	for {
		if fn(c.Node()) && c.GotoFirstChild() {
			continue
		}
		for !c.GotoNextSibling() {
			if !c.GotoParent() {
				return
			}
		}
	}
}

// Parse parses src with grammar g and calls fn with the tree. Parsers are
// pooled, so Parse is cheap to call from many goroutines at once.
func Parse(g Grammar, src []byte, fn func(t *Tree) error) error {
	if g < 0 || g >= numGrammars {
		return fmt.Errorf("unknown grammar %d", g)
	}
	p := pools[g]
	parser, err := p.get()
	if err != nil {
		return err
	}
	tree := parser.Parse(src, nil)
	if tree == nil {
		// A failed parse can leave the parser mid-way: reset it.
		parser.Reset()
		p.put(parser)
		return ErrParse
	}
	p.put(parser)
	defer tree.Close()
	return fn(&Tree{Grammar: g, Src: src, Root: tree.RootNode(), kinds: p.kinds})
}

// FirstErrorLine returns the 1-based line of the first syntax error in
// the tree, or 0 when there is none.
func (t *Tree) FirstErrorLine() int {
	line := 0
	t.Walk(func(n *ts.Node) bool {
		if line != 0 || !n.HasError() {
			return false
		}
		if n.IsError() || n.IsMissing() {
			line = int(n.StartPosition().Row) + 1
			return false
		}
		return true
	})
	return line
}

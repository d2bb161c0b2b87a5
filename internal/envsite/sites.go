package envsite

import (
	"bytes"
	"sort"
	"strings"

	ts "github.com/tree-sitter/go-tree-sitter"
)

// Kind is the shape of a read.
type Kind int

// Read shapes.
const (
	// PySubscript is os.environ["X"] (or environ["X"] after
	// `from os import environ`). Object is the os.environ expression.
	PySubscript Kind = iota + 1
	// PyCall is os.environ.get("X", d), os.getenv("X", d) or getenv("X").
	// Object is the called function; Args the argument list.
	PyCall
	// PyContains is "X" in os.environ or "X" not in os.environ (Negated).
	// Node is the comparison; Object the os.environ expression.
	PyContains
	// JSMember is process.env.X; Object is process.env.
	JSMember
	// JSSubscript is process.env["X"]; Object is process.env.
	JSSubscript
	// JSContains is "X" in process.env; Object is process.env.
	JSContains
	// JSDestructure is one property of `const { X, Y: y, Z = "d" } =
	// process.env`: Node is the pattern element.
	JSDestructure
)

// Site is one read of one environment variable. Node fields point into
// the Tree the site came from.
type Site struct {
	Kind Kind
	Key  string
	// Node is the whole read expression (for JSDestructure, the pattern
	// element).
	Node *ts.Node
	// Object is the environment object, or for PyCall the function.
	Object *ts.Node
	// KeyNode is the string literal or identifier that names the key.
	KeyNode *ts.Node
	// Args is a PyCall's argument list, NArgs its argument count.
	Args  *ts.Node
	NArgs int
	// Declarator is the variable_declarator of a JSDestructure site, or
	// nil when the pattern is the target of a plain assignment.
	Declarator *ts.Node
	// Pattern is a JSDestructure site's object pattern.
	Pattern *ts.Node
	// Local is the identifier a JSDestructure site binds.
	Local *ts.Node
	// Default is a JSDestructure site's default value, if any.
	Default *ts.Node
	// Negated marks a PyContains site using "not in".
	Negated bool
	// Frontend marks reads of import.meta.env (browser bundles), which are
	// reported but never rewritten.
	Frontend bool
}

// Sites returns every environment read in the tree, in source order.
func (t *Tree) Sites() []Site {
	var all []Site
	if t.Grammar == Python {
		all = t.pySitesIndexed()
	} else {
		all = t.jsSitesIndexed()
	}
	return cleanSites(all)
}

// sitesByWalk is the reference implementation of Sites: it visits every
// node. Sites gives the same answer by looking only at the nodes around
// occurrences of the words that every read needs (tested to agree).
func (t *Tree) sitesByWalk() []Site {
	var all []Site
	if t.Grammar == Python {
		all = t.pySitesWalk()
	} else {
		all = t.jsSitesWalk()
	}
	return cleanSites(all)
}

func cleanSites(all []Site) []Site {
	// Error recovery can produce zero-width (missing) names.
	out := all[:0]
	for _, s := range all {
		if s.Key != "" && !s.KeyNode.IsMissing() {
			out = append(out, s)
		}
	}
	return out
}

// Line and Column return a site's 1-based position (the column counts
// bytes, like go/token).
func (s Site) Line() int { return int(s.Node.StartPosition().Row) + 1 }

// Column returns the 1-based byte column of the site's start.
func (s Site) Column() int { return int(s.Node.StartPosition().Column) + 1 }

// ---- Python ----

type pyNames struct {
	os      map[string]bool // names bound to the os module
	environ map[string]bool // names bound to os.environ
	getenv  map[string]bool // names bound to os.getenv
}

func (t *Tree) pySitesWalk() []Site {
	names := pyNames{os: map[string]bool{"os": true}, environ: map[string]bool{}, getenv: map[string]bool{}}
	var cands []*ts.Node
	t.Walk(func(n *ts.Node) bool {
		switch t.Kind(n) {
		case "import_statement":
			t.pyImport(n, &names)
			return false
		case "import_from_statement":
			t.pyImportFrom(n, &names)
			return false
		case "subscript", "call", "comparison_operator":
			cands = append(cands, n)
		}
		return true
	})
	var out []Site
	for _, n := range cands {
		if s, ok := t.pySite(n, &names); ok {
			out = append(out, s)
		}
	}
	return out
}

// pySitesIndexed finds the same sites as pySitesWalk from the
// occurrences of "import", "environ" and "getenv" only. A file that
// renames environ or getenv on import falls back to the walk.
func (t *Tree) pySitesIndexed() []Site {
	names := pyNames{os: map[string]bool{"os": true}, environ: map[string]bool{}, getenv: map[string]bool{}}
	seen := map[uintptr]bool{}
	for _, i := range occurrences(t.Src, "import") {
		kw := t.Root.DescendantForByteRange(i, i+6)
		if kw == nil || kw.IsNamed() || t.Text(kw) != "import" {
			continue
		}
		st := kw.Parent()
		if st == nil || seen[st.Id()] {
			continue
		}
		seen[st.Id()] = true
		switch t.Kind(st) {
		case "import_statement":
			t.pyImport(st, &names)
		case "import_from_statement":
			t.pyImportFrom(st, &names)
		}
	}
	for n := range names.environ {
		if n != "environ" {
			return t.pySitesWalk()
		}
	}
	for n := range names.getenv {
		if n != "getenv" {
			return t.pySitesWalk()
		}
	}
	var out []Site
	for _, word := range []string{"environ", "getenv"} {
		for _, i := range occurrences(t.Src, word) {
			id := t.Root.NamedDescendantForByteRange(i, i+uint(len(word)))
			if t.Kind(id) != "identifier" || id.StartByte() != i || id.EndByte() != i+uint(len(word)) {
				continue
			}
			e := id
			if p := id.Parent(); t.Kind(p) == "attribute" && same(p.ChildByFieldName("attribute"), id) {
				e = p
			}
			p := e.Parent()
			var cand *ts.Node
			switch {
			case p == nil:
			case word == "environ" && t.Kind(p) == "subscript" && same(p.ChildByFieldName("value"), e):
				cand = p
			case word == "environ" && t.Kind(p) == "comparison_operator":
				cand = p
			case word == "environ" && t.Kind(p) == "attribute" && same(p.ChildByFieldName("object"), e):
				if c := p.Parent(); t.Kind(c) == "call" && same(c.ChildByFieldName("function"), p) {
					cand = c
				}
			case word == "getenv" && t.Kind(p) == "call" && same(p.ChildByFieldName("function"), e):
				cand = p
			}
			if cand != nil {
				if s, ok := t.pySite(cand, &names); ok {
					out = append(out, s)
				}
			}
		}
	}
	sortSites(out)
	return out
}

// pyImport records `import os` and `import os as o`.
func (t *Tree) pyImport(n *ts.Node, names *pyNames) {
	for i := uint(0); i < n.NamedChildCount(); i++ {
		c := n.NamedChild(i)
		if t.Kind(c) == "aliased_import" && t.Text(c.ChildByFieldName("name")) == "os" {
			names.os[t.Text(c.ChildByFieldName("alias"))] = true
		}
	}
}

// pyImportFrom records `from os import environ, getenv as g`.
func (t *Tree) pyImportFrom(n *ts.Node, names *pyNames) {
	if t.Text(n.ChildByFieldName("module_name")) != "os" {
		return
	}
	for i := uint(0); i < n.NamedChildCount(); i++ {
		c := n.NamedChild(i)
		if n.FieldNameForNamedChild(uint32(i)) != "name" {
			continue
		}
		name, local := t.Text(c), t.Text(c)
		if t.Kind(c) == "aliased_import" {
			name, local = t.Text(c.ChildByFieldName("name")), t.Text(c.ChildByFieldName("alias"))
		}
		switch name {
		case "environ":
			names.environ[local] = true
		case "getenv":
			names.getenv[local] = true
		}
	}
}

func (t *Tree) pyIsEnviron(n *ts.Node, names *pyNames) bool {
	switch t.Kind(n) {
	case "identifier":
		return names.environ[t.Text(n)]
	case "attribute":
		obj := n.ChildByFieldName("object")
		return t.Kind(obj) == "identifier" && names.os[t.Text(obj)] &&
			t.Text(n.ChildByFieldName("attribute")) == "environ"
	}
	return false
}

func (t *Tree) pySite(n *ts.Node, names *pyNames) (Site, bool) {
	if t.Kind(n) == "comparison_operator" {
		// "X" in os.environ: exactly key, operator, environ.
		if n.ChildCount() != 3 {
			return Site{}, false
		}
		key, op, env := n.Child(0), n.Child(1), n.Child(2)
		opText := t.Text(op)
		if (opText != "in" && strings.Join(strings.Fields(opText), " ") != "not in") || !t.pyIsEnviron(env, names) {
			return Site{}, false
		}
		k, ok := t.pyString(key)
		if !ok {
			return Site{}, false
		}
		return Site{Kind: PyContains, Key: k, Node: n, Object: env, KeyNode: key, Negated: opText != "in"}, true
	}
	if t.Kind(n) == "subscript" {
		val := n.ChildByFieldName("value")
		key := n.ChildByFieldName("subscript")
		if !t.pyIsEnviron(val, names) || countNamed(t, n) != 2 || t.pyIsStore(n) {
			return Site{}, false
		}
		k, ok := t.pyString(key)
		if !ok {
			return Site{}, false
		}
		return Site{Kind: PySubscript, Key: k, Node: n, Object: val, KeyNode: key}, true
	}
	fn := n.ChildByFieldName("function")
	args := n.ChildByFieldName("arguments")
	if t.Kind(args) != "argument_list" {
		return Site{}, false
	}
	switch t.Kind(fn) {
	case "identifier":
		if !names.getenv[t.Text(fn)] {
			return Site{}, false
		}
	case "attribute":
		obj := fn.ChildByFieldName("object")
		attr := t.Text(fn.ChildByFieldName("attribute"))
		isGetenv := attr == "getenv" && t.Kind(obj) == "identifier" && names.os[t.Text(obj)]
		isGet := attr == "get" && t.pyIsEnviron(obj, names)
		if !isGetenv && !isGet {
			return Site{}, false
		}
	default:
		return Site{}, false
	}
	var argv []*ts.Node
	for i := uint(0); i < args.NamedChildCount(); i++ {
		if c := args.NamedChild(i); t.Kind(c) != "comment" {
			argv = append(argv, c)
		}
	}
	if len(argv) == 0 || len(argv) > 2 {
		return Site{}, false
	}
	k, ok := t.pyString(argv[0])
	if !ok {
		return Site{}, false
	}
	return Site{Kind: PyCall, Key: k, Node: n, Object: fn, KeyNode: argv[0], Args: args, NArgs: len(argv)}, true
}

// pyIsStore reports whether n is written or deleted rather than read.
func (t *Tree) pyIsStore(n *ts.Node) bool {
	p := n.Parent()
	for p != nil && (t.Kind(p) == "pattern_list" || t.Kind(p) == "tuple_pattern" || t.Kind(p) == "expression_list") {
		p = p.Parent()
	}
	if p == nil {
		return false
	}
	switch t.Kind(p) {
	case "delete_statement":
		return true
	case "assignment", "augmented_assignment", "for_statement", "for_in_clause":
		left := p.ChildByFieldName("left")
		return left != nil && left.StartByte() <= n.StartByte() && n.EndByte() <= left.EndByte()
	}
	return false
}

// pyString returns the value of a plain string literal: no f-string, no
// bytes, no escapes, no implicit concatenation.
func (t *Tree) pyString(n *ts.Node) (string, bool) {
	if t.Kind(n) != "string" {
		return "", false
	}
	var b strings.Builder
	for i := uint(0); i < n.ChildCount(); i++ {
		c := n.Child(i)
		switch t.Kind(c) {
		case "string_start":
			prefix := strings.ToLower(strings.TrimRight(t.Text(c), `"'`))
			if prefix != "" && prefix != "r" && prefix != "u" {
				return "", false
			}
		case "string_content":
			if c.ChildCount() > 0 {
				return "", false // escape sequences
			}
			b.WriteString(t.Text(c))
		case "string_end":
		default:
			return "", false // interpolation and anything unexpected
		}
	}
	if b.Len() == 0 {
		return "", false
	}
	return b.String(), true
}

func countNamed(t *Tree, n *ts.Node) int {
	c := 0
	for i := uint(0); i < n.NamedChildCount(); i++ {
		if t.Kind(n.NamedChild(i)) != "comment" {
			c++
		}
	}
	return c
}

// ---- JavaScript / TypeScript ----

// envObject classifies n as process.env, import.meta.env or neither.
func (t *Tree) envObject(n *ts.Node) (ok, frontend bool) {
	n = t.unwrapTS(n)
	if t.Kind(n) != "member_expression" || t.Text(n.ChildByFieldName("property")) != "env" {
		return false, false
	}
	obj := n.ChildByFieldName("object")
	switch t.Kind(obj) {
	case "identifier":
		return t.Text(obj) == "process", false
	case "meta_property":
		return t.Text(obj) == "import.meta", true
	}
	return false, false
}

// unwrapTS strips parentheses and TypeScript-only wrappers (x as T, x!,
// x satisfies T, <T>x).
func (t *Tree) unwrapTS(n *ts.Node) *ts.Node {
	for n != nil {
		switch t.Kind(n) {
		case "parenthesized_expression", "as_expression", "non_null_expression", "satisfies_expression", "type_assertion":
			var inner *ts.Node
			for i := uint(0); i < n.NamedChildCount(); i++ {
				if c := n.NamedChild(i); t.Kind(c) != "comment" {
					inner = c
					break
				}
			}
			if inner == nil {
				return n
			}
			n = inner
		default:
			return n
		}
	}
	return n
}

func (t *Tree) jsSitesWalk() []Site {
	var out []Site
	t.Walk(func(n *ts.Node) bool {
		out = append(out, t.jsCandidate(n)...)
		return true
	})
	return out
}

// jsSitesIndexed finds the same sites as jsSitesWalk from the
// occurrences of "env" only: every read has an env property.
func (t *Tree) jsSitesIndexed() []Site {
	var out []Site
	for _, i := range occurrences(t.Src, "env") {
		id := t.Root.NamedDescendantForByteRange(i, i+3)
		if t.Kind(id) != "property_identifier" || id.StartByte() != i || id.EndByte() != i+3 {
			continue
		}
		obj := id.Parent()
		if t.Kind(obj) != "member_expression" || !same(obj.ChildByFieldName("property"), id) {
			continue
		}
		p := obj.Parent()
		for isTSWrapper(t.Kind(p)) {
			p = p.Parent()
		}
		if p != nil {
			out = append(out, t.jsCandidate(p)...)
		}
	}
	sortSites(out)
	return out
}

// jsCandidate returns the reads n is, if any.
func (t *Tree) jsCandidate(n *ts.Node) []Site {
	switch t.Kind(n) {
	case "member_expression":
		obj := n.ChildByFieldName("object")
		ok, fe := t.envObject(obj)
		prop := n.ChildByFieldName("property")
		if ok && t.Kind(prop) == "property_identifier" && !t.jsIsStore(n) {
			return []Site{{Kind: JSMember, Key: t.Text(prop), Node: n, Object: obj, KeyNode: prop, Frontend: fe}}
		}
	case "subscript_expression":
		obj := n.ChildByFieldName("object")
		ok, fe := t.envObject(obj)
		idx := n.ChildByFieldName("index")
		if k, isStr := t.jsString(idx); ok && isStr && !t.jsIsStore(n) {
			return []Site{{Kind: JSSubscript, Key: k, Node: n, Object: obj, KeyNode: idx, Frontend: fe}}
		}
	case "binary_expression":
		obj := n.ChildByFieldName("right")
		left := n.ChildByFieldName("left")
		if t.Text(n.ChildByFieldName("operator")) != "in" {
			return nil
		}
		ok, fe := t.envObject(obj)
		if k, isStr := t.jsString(left); ok && isStr {
			return []Site{{Kind: JSContains, Key: k, Node: n, Object: obj, KeyNode: left, Frontend: fe}}
		}
	case "variable_declarator":
		pat := n.ChildByFieldName("name")
		if t.Kind(pat) == "object_pattern" {
			val := n.ChildByFieldName("value")
			if ok, fe := t.envObject(val); ok {
				return t.jsPattern(pat, n, val, fe)
			}
		}
	case "assignment_expression":
		pat := n.ChildByFieldName("left")
		if t.Kind(pat) == "object_pattern" {
			val := n.ChildByFieldName("right")
			if ok, fe := t.envObject(val); ok {
				return t.jsPattern(pat, nil, val, fe)
			}
		}
	}
	return nil
}

func isTSWrapper(kind string) bool {
	switch kind {
	case "parenthesized_expression", "as_expression", "non_null_expression", "satisfies_expression", "type_assertion":
		return true
	}
	return false
}

func same(a, b *ts.Node) bool { return a != nil && b != nil && a.Id() == b.Id() }

// occurrences returns the byte offsets of word in src.
func occurrences(src []byte, word string) []uint {
	var out []uint
	w := []byte(word)
	for off := 0; ; {
		i := bytes.Index(src[off:], w)
		if i < 0 {
			return out
		}
		out = append(out, uint(off+i))
		off += i + len(w)
	}
}

func sortSites(s []Site) {
	sort.SliceStable(s, func(i, j int) bool { return s[i].Node.StartByte() < s[j].Node.StartByte() })
}

// jsPattern lists the properties an object pattern takes from the
// environment object.
func (t *Tree) jsPattern(pat, decl, obj *ts.Node, fe bool) []Site {
	var out []Site
	for i := uint(0); i < pat.NamedChildCount(); i++ {
		el := pat.NamedChild(i)
		s := Site{Kind: JSDestructure, Node: el, Object: obj, Declarator: decl, Pattern: pat, Frontend: fe}
		switch t.Kind(el) {
		case "shorthand_property_identifier_pattern":
			s.Key, s.KeyNode, s.Local = t.Text(el), el, el
		case "object_assignment_pattern":
			left := el.ChildByFieldName("left")
			if t.Kind(left) != "shorthand_property_identifier_pattern" {
				continue
			}
			s.Key, s.KeyNode, s.Local, s.Default = t.Text(left), left, left, el.ChildByFieldName("right")
		case "pair_pattern":
			key := el.ChildByFieldName("key")
			switch t.Kind(key) {
			case "property_identifier":
				s.Key = t.Text(key)
			case "string":
				k, ok := t.jsString(key)
				if !ok {
					continue
				}
				s.Key = k
			default:
				continue
			}
			s.KeyNode = key
			val := el.ChildByFieldName("value")
			switch t.Kind(val) {
			case "identifier":
				s.Local = val
			case "assignment_pattern":
				left := val.ChildByFieldName("left")
				if t.Kind(left) != "identifier" {
					continue
				}
				s.Local, s.Default = left, val.ChildByFieldName("right")
			default:
				continue // nested patterns: not a plain read
			}
		default:
			continue // rest patterns and comments
		}
		out = append(out, s)
	}
	return out
}

// jsIsStore reports whether n is assigned, updated or deleted.
func (t *Tree) jsIsStore(n *ts.Node) bool {
	p := n.Parent()
	if p == nil {
		return false
	}
	switch t.Kind(p) {
	case "assignment_expression", "augmented_assignment_expression":
		left := p.ChildByFieldName("left")
		return left != nil && left.StartByte() == n.StartByte() && left.EndByte() == n.EndByte()
	case "update_expression":
		return true
	case "unary_expression":
		return t.Text(p.ChildByFieldName("operator")) == "delete"
	}
	return false
}

// jsString returns the value of a string literal or a template literal
// without substitutions, when it has no escapes.
func (t *Tree) jsString(n *ts.Node) (string, bool) {
	switch t.Kind(n) {
	case "string", "template_string":
	default:
		return "", false
	}
	s := t.Text(n)
	if len(s) < 3 {
		return "", false
	}
	s = s[1 : len(s)-1]
	if strings.ContainsAny(s, "\\\n") || strings.Contains(s, "${") {
		return "", false
	}
	return s, true
}

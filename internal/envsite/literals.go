package envsite

import (
	"strings"

	ts "github.com/tree-sitter/go-tree-sitter"
)

// StringLiterals returns the string literal nodes whose content is
// exactly value as written (no escapes, no interpolation), in source
// order. Python f-strings, bytes and implicitly concatenated pieces are
// left out: they cannot be swapped for a call on their own.
func (t *Tree) StringLiterals(value string) []*ts.Node {
	if value == "" {
		return nil
	}
	var out []*ts.Node
	seen := map[uintptr]bool{}
	for _, i := range occurrences(t.Src, value) {
		n := t.Root.DescendantForByteRange(i, i+uint(len(value)))
		for n != nil && t.Kind(n) != "string" && t.Kind(n) != "template_string" && n.EndByte()-n.StartByte() <= uint(len(value))+8 {
			n = n.Parent()
		}
		if n == nil || seen[n.Id()] {
			continue
		}
		seen[n.Id()] = true
		if t.isLiteral(n, value) {
			out = append(out, n)
		}
	}
	return out
}

func (t *Tree) isLiteral(n *ts.Node, value string) bool {
	switch t.Kind(n) {
	case "string":
		if t.Grammar == Python {
			if t.Kind(n.Parent()) == "concatenated_string" {
				return false
			}
			v, ok := t.pyString(n)
			return ok && v == value
		}
		s := t.Text(n)
		return len(s) == len(value)+2 && s[1:len(s)-1] == value && !strings.Contains(value, `\`)
	case "template_string":
		s := t.Text(n)
		return len(s) == len(value)+2 && s[1:len(s)-1] == value && !strings.ContainsAny(value, "\\`") && !strings.Contains(value, "${")
	}
	return false
}

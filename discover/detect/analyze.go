package detect

import (
	"regexp/syntax"
	"strings"
)

// unbounded marks a newline count with no upper limit.
const unbounded = 1 << 30

// reach says how a rule's matches sit around its keywords, which decides
// how much text around a keyword hit the rule's regex must see.
type reach struct {
	// anchored is true when every match of the regex contains one of the
	// rule's keywords (compared in lower case), so the regex only needs
	// to run near keyword hits.
	anchored bool
	// before and after bound the newlines a match can hold before and
	// after that keyword; unbounded when there is no limit.
	before, after int
}

// windowed reports whether the rule can run on lines around keyword hits
// instead of the whole file.
func (r reach) windowed() bool {
	return r.anchored && r.before < unbounded && r.after < unbounded
}

// analyze works out the reach of a regex for a set of lower-case keywords.
// It is conservative: when in doubt it says the rule is not anchored.
func analyze(expr string, keywords []string) reach {
	if len(keywords) == 0 {
		return reach{}
	}
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return reach{}
	}
	a := analyzer{keywords: keywords}
	n := a.node(re)
	if !n.kwOK {
		return reach{}
	}
	return reach{anchored: true, before: n.nlBefore, after: n.nlAfter}
}

// maxExact caps the size of exact string sets the analysis tracks.
const maxExact = 64

type analyzer struct {
	keywords []string
}

// info summarises a regex node.
type info struct {
	// exact, when not nil, is every string the node can match (lower
	// case). A nil exact means "too many or unknown".
	exact []string
	// prefix and suffix, when not nil, hold strings one of which starts
	// (ends) every match.
	prefix, suffix []string
	// kwOK is true when every match of the node contains a keyword.
	kwOK bool
	// nlTotal bounds the newlines in any match of the node.
	nlTotal int
	// nlBefore and nlAfter bound the newlines before and after the keyword
	// occurrence that makes kwOK true.
	nlBefore, nlAfter int
}

func addNL(a, b int) int {
	if a >= unbounded || b >= unbounded {
		return unbounded
	}
	return a + b
}

func mulNL(n, times int) int {
	if n == 0 || times == 0 {
		return 0
	}
	if n >= unbounded || times < 0 || times >= unbounded {
		return unbounded
	}
	return n * times
}

func (a *analyzer) allContainKeyword(set []string) bool {
	if len(set) == 0 {
		return false
	}
	for _, s := range set {
		found := false
		for _, k := range a.keywords {
			if strings.Contains(s, k) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func (a *analyzer) exactInfo(set []string) info {
	nl := 0
	for _, s := range set {
		if c := strings.Count(s, "\n"); c > nl {
			nl = c
		}
	}
	in := info{exact: set, prefix: set, suffix: set, nlTotal: nl}
	if a.allContainKeyword(set) {
		in.kwOK = true
		in.nlBefore, in.nlAfter = nl, nl
	}
	return in
}

// lowerASCII lowers an ASCII rune. The Kelvin sign and the long s fold to
// k and s in case-insensitive regexes; files holding them are scanned
// whole (see foldHazard), so here they count as their ASCII letters.
func lowerASCII(r rune) (byte, bool) {
	switch r {
	case '\u212a':
		return 'k', true
	case '\u017f':
		return 's', true
	}
	if r >= 0x80 {
		return 0, false
	}
	b := byte(r)
	if 'A' <= b && b <= 'Z' {
		b += 'a' - 'A'
	}
	return b, true
}

func classHasNL(ranges []rune) bool {
	for i := 0; i+1 < len(ranges); i += 2 {
		if ranges[i] <= '\n' && '\n' <= ranges[i+1] {
			return true
		}
	}
	return false
}

func (a *analyzer) node(re *syntax.Regexp) info {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return a.exactInfo([]string{""})
	case syntax.OpNoMatch:
		// Never matches: vacuously anchored.
		return info{exact: []string{}, kwOK: true}
	case syntax.OpLiteral:
		var b strings.Builder
		for _, r := range re.Rune {
			c, ok := lowerASCII(r)
			if !ok {
				// Non-ASCII: keep the exact text out of the analysis.
				return info{nlTotal: strings.Count(string(re.Rune), "\n")}
			}
			b.WriteByte(c)
		}
		return a.exactInfo([]string{b.String()})
	case syntax.OpCharClass:
		nl := 0
		if classHasNL(re.Rune) {
			nl = 1
		}
		count := 0
		for i := 0; i+1 < len(re.Rune); i += 2 {
			count += int(re.Rune[i+1]-re.Rune[i]) + 1
			if count > 8 {
				return info{nlTotal: nl}
			}
		}
		seen := map[string]bool{}
		var set []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				c, ok := lowerASCII(r)
				if !ok {
					return info{nlTotal: nl}
				}
				if !seen[string(c)] {
					seen[string(c)] = true
					set = append(set, string(c))
				}
			}
		}
		return a.exactInfo(set)
	case syntax.OpAnyChar:
		return info{nlTotal: 1}
	case syntax.OpAnyCharNotNL:
		return info{}
	case syntax.OpCapture:
		return a.node(re.Sub[0])
	case syntax.OpStar, syntax.OpQuest, syntax.OpPlus, syntax.OpRepeat:
		return a.repeat(re)
	case syntax.OpConcat:
		return a.concat(re.Sub)
	case syntax.OpAlternate:
		return a.alternate(re.Sub)
	}
	// Unknown operator: claim nothing.
	return info{nlTotal: unbounded}
}

func (a *analyzer) repeat(re *syntax.Regexp) info {
	sub := a.node(re.Sub[0])
	lo, hi := 0, -1
	switch re.Op {
	case syntax.OpStar:
	case syntax.OpPlus:
		lo = 1
	case syntax.OpQuest:
		hi = 1
	case syntax.OpRepeat:
		lo, hi = re.Min, re.Max
	}
	nl := mulNL(sub.nlTotal, hi)
	if hi == 1 && sub.exact != nil {
		set := append([]string{}, sub.exact...)
		if lo == 0 {
			set = append(set, "")
		}
		in := a.exactInfo(set)
		in.nlTotal = max(in.nlTotal, nl)
		return in
	}
	out := info{nlTotal: nl}
	if lo >= 1 {
		out.prefix, out.suffix = sub.prefix, sub.suffix
		if sub.kwOK {
			out.kwOK = true
			out.nlBefore = sub.nlBefore
			rest := -1
			if hi >= 0 {
				rest = hi - 1
			}
			out.nlAfter = addNL(sub.nlAfter, mulNL(sub.nlTotal, rest))
		}
	}
	return a.finish(out)
}

// finish lets a node's prefix or suffix set prove it anchored.
func (a *analyzer) finish(in info) info {
	if a.allContainKeyword(in.prefix) {
		b := maxNL(in.prefix)
		if !in.kwOK || addNL(b, in.nlTotal) < addNL(in.nlBefore, in.nlAfter) {
			in.kwOK, in.nlBefore, in.nlAfter = true, b, in.nlTotal
		}
	}
	if a.allContainKeyword(in.suffix) {
		s := maxNL(in.suffix)
		if !in.kwOK || addNL(in.nlTotal, s) < addNL(in.nlBefore, in.nlAfter) {
			in.kwOK, in.nlBefore, in.nlAfter = true, in.nlTotal, s
		}
	}
	return in
}

func maxNL(set []string) int {
	n := 0
	for _, s := range set {
		n = max(n, strings.Count(s, "\n"))
	}
	return n
}

func (a *analyzer) concat(subs []*syntax.Regexp) info {
	// Fold runs of exact children into cross products so keywords that
	// straddle children (e.g. [Aa]pi) are seen.
	var items []info
	var run []string
	flush := func() {
		if run != nil {
			items = append(items, a.exactInfo(run))
			run = nil
		}
	}
	for _, s := range subs {
		n := a.node(s)
		if n.exact != nil {
			if run == nil {
				run = n.exact
				continue
			}
			if prod := cross(run, n.exact); prod != nil {
				run = prod
				continue
			}
			flush()
			run = n.exact
			continue
		}
		flush()
		items = append(items, n)
	}
	flush()
	if len(items) == 1 {
		return items[0]
	}
	out := info{}
	for _, it := range items {
		out.nlTotal = addNL(out.nlTotal, it.nlTotal)
	}
	// Prefix: the first item's, extended through an exact first item.
	out.prefix = items[0].prefix
	if items[0].exact != nil && items[1].prefix != nil {
		if c := cross(items[0].exact, items[1].prefix); c != nil {
			out.prefix = c
		}
	}
	last := len(items) - 1
	out.suffix = items[last].suffix
	if items[last].exact != nil && items[last-1].suffix != nil {
		if c := cross(items[last-1].suffix, items[last].exact); c != nil {
			out.suffix = c
		}
	}
	sumNL := func(its []info) int {
		n := 0
		for _, it := range its {
			n = addNL(n, it.nlTotal)
		}
		return n
	}
	consider := func(before, after int) {
		if !out.kwOK || addNL(before, after) < addNL(out.nlBefore, out.nlAfter) {
			out.kwOK, out.nlBefore, out.nlAfter = true, before, after
		}
	}
	for i, it := range items {
		if it.kwOK {
			consider(addNL(sumNL(items[:i]), it.nlBefore), addNL(it.nlAfter, sumNL(items[i+1:])))
		}
		// A keyword may straddle the boundary between two items.
		if i < last && it.suffix != nil && items[i+1].prefix != nil {
			if c := cross(it.suffix, items[i+1].prefix); c != nil && a.allContainKeyword(c) {
				consider(sumNL(items[:i+1]), sumNL(items[i+1:]))
			}
		}
	}
	return a.finish(out)
}

func cross(a, b []string) []string {
	if len(a)*len(b) > maxExact {
		return nil
	}
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return out
}

// union joins string sets; nil when any is unknown or the result is big.
func union(sets [][]string) []string {
	var out []string
	for _, s := range sets {
		if s == nil {
			return nil
		}
		out = append(out, s...)
	}
	if len(out) > maxExact {
		return nil
	}
	if out == nil {
		out = []string{}
	}
	return out
}

func (a *analyzer) alternate(subs []*syntax.Regexp) info {
	out := info{kwOK: true}
	var exacts, prefixes, suffixes [][]string
	for _, s := range subs {
		n := a.node(s)
		out.nlTotal = max(out.nlTotal, n.nlTotal)
		if !n.kwOK {
			out.kwOK = false
		}
		out.nlBefore = max(out.nlBefore, n.nlBefore)
		out.nlAfter = max(out.nlAfter, n.nlAfter)
		exacts = append(exacts, n.exact)
		prefixes = append(prefixes, n.prefix)
		suffixes = append(suffixes, n.suffix)
	}
	if exact := union(exacts); exact != nil {
		in := a.exactInfo(exact)
		in.nlTotal = max(in.nlTotal, out.nlTotal)
		return in
	}
	if !out.kwOK {
		out.nlBefore, out.nlAfter = 0, 0
	}
	out.prefix, out.suffix = union(prefixes), union(suffixes)
	return a.finish(out)
}

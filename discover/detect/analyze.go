package detect

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// unbounded marks a count with no upper limit.
const unbounded = 1 << 30

// bound limits part of a match: how many newlines and how many bytes it
// can hold.
type bound struct{ nl, by int }

func addN(a, b int) int {
	if a >= unbounded || b >= unbounded {
		return unbounded
	}
	return min(a+b, unbounded)
}

func mulN(n, times int) int {
	if n == 0 || times == 0 {
		return 0
	}
	if n >= unbounded || times < 0 || times >= unbounded {
		return unbounded
	}
	return min(n*times, unbounded)
}

func (a bound) add(b bound) bound   { return bound{addN(a.nl, b.nl), addN(a.by, b.by)} }
func (a bound) mul(times int) bound { return bound{mulN(a.nl, times), mulN(a.by, times)} }
func (a bound) max(b bound) bound   { return bound{max(a.nl, b.nl), max(a.by, b.by)} }

// cost ranks two bounds taken together: bytes first, then newlines.
func (a bound) cost(b bound) int { return mulN(addN(a.by, b.by), 4) + addN(a.nl, b.nl) }

func strBound(s string) bound { return bound{strings.Count(s, "\n"), len(s)} }

// sumBounds bounds a sequence of nodes.
func sumBounds(items []info) bound {
	t := bound{}
	for _, it := range items {
		t = t.add(it.total)
	}
	return t
}

// reach says how a rule's matches sit around its keywords, which decides
// how much text around a keyword hit the rule's regex must see.
type reach struct {
	// anchored is true when every match of the regex contains one of the
	// rule's keywords (compared in lower case), so the regex only needs
	// to run near keyword hits.
	anchored bool
	// before and after bound the part of a match before the start and
	// after the end of that keyword, in newlines and in bytes.
	before, after bound
	// total bounds a whole match.
	total bound
	// inner bounds how far from the match start a newline that is not
	// the match's last character can end (-1: there is none). A match
	// holding a keyword at offset k therefore ends on the line after the
	// one holding offset k+inner at the latest.
	inner int
}

// windowed reports whether the rule can run on lines around keyword hits
// instead of the whole file.
func (r reach) windowed() bool {
	return r.anchored && r.before.nl < unbounded && r.after.nl < unbounded
}

// analyze works out the reach of a regex for a set of lower-case keywords.
// It is conservative: when in doubt it says the rule is not anchored.
func analyze(expr string, keywords []string) reach {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return reach{total: bound{unbounded, unbounded}}
	}
	if len(keywords) == 0 {
		_, _, t := nlShape(re)
		return reach{total: t}
	}
	a := analyzer{keywords: keywords}
	n := a.node(re)
	if !n.kwOK {
		return reach{total: n.total}
	}
	inner, _, _ := nlShape(re)
	return reach{anchored: true, before: n.before, after: n.after, inner: inner, total: n.total}
}

// nlShape works out where newlines can sit in a match of re: inner bounds
// the end offset (in bytes from the match start) of any newline that
// more of the match follows (-1 when there is none), endNL says whether
// the match can end with a newline, and total bounds the match.
func nlShape(re *syntax.Regexp) (inner int, endNL bool, total bound) {
	switch re.Op {
	case syntax.OpLiteral:
		s := string(re.Rune)
		total = bound{strings.Count(s, "\n"), len(s)}
		if re.Flags&syntax.FoldCase != 0 && len(s) != len(re.Rune) {
			// Non-ASCII letters may fold to longer encodings.
			total.by = utf8.UTFMax * len(re.Rune)
		}
		inner = -1
		for i := 0; i < len(s); i++ {
			if s[i] == '\n' {
				if i == len(s)-1 {
					endNL = true
				} else {
					inner = i + 1
				}
			}
		}
		if inner >= 0 && total.by != len(s) {
			inner = total.by
		}
		return inner, endNL, total
	case syntax.OpCharClass:
		cb := classBound(re.Rune)
		return -1, cb.nl > 0, cb
	case syntax.OpAnyChar:
		return -1, true, bound{1, utf8.UTFMax}
	case syntax.OpAnyCharNotNL:
		return -1, false, bound{0, utf8.UTFMax}
	case syntax.OpCapture:
		return nlShape(re.Sub[0])
	case syntax.OpConcat:
		inner, lastEnd := -1, -1
		base := 0
		for _, sub := range re.Sub {
			in, end, tot := nlShape(sub)
			if tot.by > 0 && lastEnd >= 0 {
				// A newline that ended an earlier part is followed by
				// this one.
				inner = max(inner, lastEnd)
			}
			if in >= 0 {
				inner = max(inner, addN(base, in))
			}
			base = addN(base, tot.by)
			total = total.add(tot)
			if end {
				lastEnd = max(lastEnd, base)
			}
		}
		return inner, lastEnd >= 0, total
	case syntax.OpAlternate:
		inner = -1
		for _, sub := range re.Sub {
			in, end, tot := nlShape(sub)
			inner, endNL, total = max(inner, in), endNL || end, total.max(tot)
		}
		return inner, endNL, total
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		in, end, tot := nlShape(re.Sub[0])
		hi := -1
		switch re.Op {
		case syntax.OpQuest:
			hi = 1
		case syntax.OpRepeat:
			hi = re.Max
		}
		total = tot.mul(hi)
		if in < 0 && !end {
			return -1, false, total
		}
		if hi == 1 {
			return in, end, total
		}
		// Every repetition but the last is followed by another.
		rest := mulN(tot.by, hi-1)
		if hi < 0 {
			rest = unbounded
		}
		inner = -1
		if in >= 0 {
			inner = addN(rest, in)
		}
		if end {
			inner = max(inner, rest)
		}
		return inner, end, total
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpNoMatch:
		return -1, false, bound{}
	}
	return unbounded, true, bound{unbounded, unbounded}
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
	// total bounds any match of the node.
	total bound
	// before and after bound a match around the keyword occurrence that
	// makes kwOK true.
	before, after bound
}

// consider records a way of anchoring the node, keeping the tightest.
func (in *info) consider(before, after bound) {
	if !in.kwOK || before.cost(after) < in.before.cost(in.after) {
		in.kwOK, in.before, in.after = true, before, after
	}
}

// kwSpan returns, for a string set whose every member holds a keyword,
// the most bytes and newlines before the first keyword and after it.
func (a *analyzer) kwSpan(set []string) (before, after bound, ok bool) {
	if len(set) == 0 {
		return bound{}, bound{}, false
	}
	for _, s := range set {
		at, kl := -1, 0
		for _, k := range a.keywords {
			if i := strings.Index(s, k); i >= 0 && (at < 0 || i < at) {
				at, kl = i, len(k)
			}
		}
		if at < 0 {
			return bound{}, bound{}, false
		}
		before = before.max(strBound(s[:at]))
		after = after.max(strBound(s[at+kl:]))
	}
	return before, after, true
}

func (a *analyzer) exactInfo(set []string) info {
	t := bound{}
	for _, s := range set {
		t = t.max(strBound(s))
	}
	in := info{exact: set, prefix: set, suffix: set, total: t}
	if b, af, ok := a.kwSpan(set); ok {
		in.consider(b, af)
	}
	return in
}

// lowerASCII lowers an ASCII rune. The Kelvin sign and the long s fold to
// k and s in case-insensitive regexes; files holding them get line-only
// windows (see foldHazard), so here they count as their ASCII letters.
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

// classBound bounds one character of a class: a newline or not, and its
// UTF-8 length.
func classBound(ranges []rune) bound {
	b := bound{by: 1}
	for i := 0; i+1 < len(ranges); i += 2 {
		if ranges[i] <= '\n' && '\n' <= ranges[i+1] {
			b.nl = 1
		}
		lo, hi := ranges[i], ranges[i+1]
		if lo == hi && (lo == '\u212a' || lo == '\u017f') {
			// Case folding adds these to ASCII classes; files holding
			// them get no byte bounds (see pass.folded).
			continue
		}
		if l := utf8.RuneLen(hi); l > b.by {
			b.by = l
		}
	}
	return b
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
				// Non-ASCII: keep the text out of the analysis; case
				// folding may change byte lengths.
				return info{total: bound{strings.Count(string(re.Rune), "\n"), 4 * len(re.Rune)}}
			}
			b.WriteByte(c)
		}
		return a.exactInfo([]string{b.String()})
	case syntax.OpCharClass:
		cb := classBound(re.Rune)
		count := 0
		for i := 0; i+1 < len(re.Rune); i += 2 {
			count += int(re.Rune[i+1]-re.Rune[i]) + 1
			if count > 8 {
				return info{total: cb}
			}
		}
		seen := map[byte]bool{}
		var set []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				c, ok := lowerASCII(r)
				if !ok {
					return info{total: cb}
				}
				if !seen[c] {
					seen[c] = true
					set = append(set, string(c))
				}
			}
		}
		return a.exactInfo(set)
	case syntax.OpAnyChar:
		return info{total: bound{1, utf8.UTFMax}}
	case syntax.OpAnyCharNotNL:
		return info{total: bound{0, utf8.UTFMax}}
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
	return info{total: bound{unbounded, unbounded}}
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
	total := sub.total.mul(hi)
	if hi == 1 && sub.exact != nil {
		set := append([]string{}, sub.exact...)
		if lo == 0 {
			set = append(set, "")
		}
		in := a.exactInfo(set)
		in.total = in.total.max(total)
		return in
	}
	out := info{total: total}
	if lo >= 1 {
		out.prefix, out.suffix = sub.prefix, sub.suffix
		if sub.kwOK {
			// Designate the keyword of the first repetition.
			rest := -1
			if hi >= 0 {
				rest = hi - 1
			}
			out.consider(sub.before, sub.after.add(sub.total.mul(rest)))
		}
	}
	return a.finish(out)
}

// finish lets a node's prefix or suffix set prove it anchored.
func (a *analyzer) finish(in info) info {
	if b, _, ok := a.kwSpan(in.prefix); ok {
		in.consider(b, in.total)
	}
	if _, af, ok := a.kwSpan(in.suffix); ok {
		in.consider(in.total, af)
	}
	return in
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
	out := info{total: sumBounds(items)}
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
	for i, it := range items {
		if it.kwOK {
			out.consider(sumBounds(items[:i]).add(it.before), it.after.add(sumBounds(items[i+1:])))
		}
		// A keyword may straddle the boundary between two items.
		if i < last && it.suffix != nil && items[i+1].prefix != nil {
			if c := cross(it.suffix, items[i+1].prefix); c != nil {
				if _, _, ok := a.kwSpan(c); ok {
					out.consider(sumBounds(items[:i+1]), sumBounds(items[i+1:]))
				}
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
	out := info{}
	allOK := true
	var exacts, prefixes, suffixes [][]string
	var before, after bound
	for _, s := range subs {
		n := a.node(s)
		out.total = out.total.max(n.total)
		if !n.kwOK {
			allOK = false
		}
		before, after = before.max(n.before), after.max(n.after)
		exacts = append(exacts, n.exact)
		prefixes = append(prefixes, n.prefix)
		suffixes = append(suffixes, n.suffix)
	}
	if exact := union(exacts); exact != nil {
		in := a.exactInfo(exact)
		in.total = in.total.max(out.total)
		return in
	}
	if allOK {
		out.consider(before, after)
	}
	out.prefix, out.suffix = union(prefixes), union(suffixes)
	return a.finish(out)
}

// keywordSuffixes works out, for each keyword of a rule, a regex that
// must match at a hit of that keyword for the hit to be part of a match.
// It applies when every match of expr passes through an element that
// matches exactly one of the keywords (as in gitleaks' generated
// "keyword ... = value" rules and prefix rules like "hvs.", "s."); what
// must follow that element is the rest of the regex. The regex is meant
// for the text from the keyword's last character on: it skips that one
// character first, so assertions at the start of the rest (\b) see the
// real character before them. A hit where it does not match cannot be a
// match's keyword, so its window can be skipped.
func keywordSuffixes(expr string, keywords []string) map[string]*regexp.Regexp {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	isKW := map[string]bool{}
	for _, k := range keywords {
		isKW[k] = true
	}
	a := analyzer{keywords: keywords}
	tails := map[string][]*syntax.Regexp{}
	unsafe := map[string]bool{}
	var walk func(n *syntax.Regexp, cont []*syntax.Regexp) bool
	walk = func(n *syntax.Regexp, cont []*syntax.Regexp) bool {
		switch n.Op {
		case syntax.OpCapture:
			return walk(n.Sub[0], cont)
		case syntax.OpAlternate:
			for _, b := range n.Sub {
				if !walk(b, cont) {
					return false
				}
			}
			return true
		case syntax.OpConcat:
			for i, sub := range n.Sub {
				ex := a.node(sub).exact
				all := len(ex) > 0
				for _, s := range ex {
					all = all && isKW[s]
				}
				if !all {
					continue
				}
				rest := append(append([]*syntax.Regexp{}, n.Sub[i+1:]...), cont...)
				for _, s := range ex {
					if len(rest) == 0 {
						unsafe[s] = true
						continue
					}
					tails[s] = append(tails[s], &syntax.Regexp{Op: syntax.OpConcat, Sub: rest})
				}
				return true
			}
			// No keyword element here: descend into a group that every
			// match passes through.
			for i, sub := range n.Sub {
				if sub.Op == syntax.OpCapture || sub.Op == syntax.OpAlternate {
					rest := append(append([]*syntax.Regexp{}, n.Sub[i+1:]...), cont...)
					if walk(sub, rest) {
						return true
					}
				}
			}
			return false
		}
		return false
	}
	if !walk(re, nil) {
		return nil
	}
	out := map[string]*regexp.Regexp{}
	for k, ts := range tails {
		if unsafe[k] {
			continue
		}
		parts := make([]string, len(ts))
		for i, t := range ts {
			parts[i] = "(?:" + t.String() + ")"
		}
		sre, err := regexp.Compile(`^(?s:.)(?:` + strings.Join(parts, "|") + `)`)
		if err != nil {
			continue
		}
		out[k] = sre
	}
	return out
}

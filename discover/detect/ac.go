package detect

// acMachine is an Aho-Corasick automaton over lower-cased ASCII keywords.
// It reads the original bytes and folds A-Z to a-z itself, so no
// lower-cased copy of the content is ever made. Its transition table is a
// full DFA over byte classes (bytes that occur in no keyword share one
// class), which keeps the inner loop to two table loads per byte.
type acMachine struct {
	class    [256]uint8
	nClass   int
	delta    []int32 // state*nClass + class -> next state
	out      [][]int32
	keywords []string
}

// acHit is one keyword occurrence: the keyword index and the byte offset
// just past its end.
type acHit struct {
	end int32
	kw  int32
}

func newACMachine(keywords []string) *acMachine {
	m := &acMachine{keywords: keywords}
	// Byte classes: one per distinct byte in the keywords, upper-case
	// letters sharing their lower-case letter's class.
	next := uint8(1)
	for _, k := range keywords {
		for i := 0; i < len(k); i++ {
			b := k[i]
			if m.class[b] == 0 {
				m.class[b] = next
				next++
			}
		}
	}
	for b := 'A'; b <= 'Z'; b++ {
		m.class[b] = m.class[b+'a'-'A']
	}
	m.nClass = int(next)

	// Trie.
	type node struct {
		child map[uint8]int32
		fail  int32
		out   []int32
	}
	nodes := []node{{child: map[uint8]int32{}}}
	for i, k := range keywords {
		s := int32(0)
		for j := 0; j < len(k); j++ {
			c := m.class[k[j]]
			n, ok := nodes[s].child[c]
			if !ok {
				nodes = append(nodes, node{child: map[uint8]int32{}})
				n = int32(len(nodes) - 1)
				nodes[s].child[c] = n
			}
			s = n
		}
		nodes[s].out = append(nodes[s].out, int32(i))
	}

	// Breadth-first failure links and the full transition table.
	m.delta = make([]int32, len(nodes)*m.nClass)
	queue := make([]int32, 0, len(nodes))
	for c := 0; c < m.nClass; c++ {
		if n, ok := nodes[0].child[uint8(c)]; ok && c != 0 {
			nodes[n].fail = 0
			m.delta[c] = n
			queue = append(queue, n)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := nodes[s].fail
		nodes[s].out = append(nodes[s].out, nodes[f].out...)
		for c := 0; c < m.nClass; c++ {
			n, ok := nodes[s].child[uint8(c)]
			if ok && c != 0 {
				nodes[n].fail = m.delta[int(f)*m.nClass+c]
				m.delta[int(s)*m.nClass+c] = n
				queue = append(queue, n)
			} else {
				m.delta[int(s)*m.nClass+c] = m.delta[int(f)*m.nClass+c]
			}
		}
	}
	m.out = make([][]int32, len(nodes))
	for i := range nodes {
		m.out[i] = nodes[i].out
	}
	return m
}

// find appends every keyword occurrence in s (case-insensitively for
// ASCII letters) to hits, in order of end offset.
func (m *acMachine) find(s string, hits []acHit) []acHit {
	delta, class, nc := m.delta, &m.class, m.nClass
	state := int32(0)
	for i := 0; i < len(s); i++ {
		state = delta[int(state)*nc+int(class[s[i]])]
		if out := m.out[state]; out != nil {
			for _, k := range out {
				hits = append(hits, acHit{end: int32(i + 1), kw: k})
			}
		}
	}
	return hits
}

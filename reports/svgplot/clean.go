package svgplot

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean makes text an app wrote (module names, log lines, error strings,
// scenario names) safe to show: invalid UTF-8 becomes U+FFFD, terminal
// escape sequences and control characters other than newline and tab are
// dropped, and so are the bidirectional controls that can make text read in
// an order other than the one stored (the "Trojan Source" trick). Escaping
// for HTML or XML is a separate step.
func Clean(s string) string {
	if isClean(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == 0x1b {
			i += escapeLen(s[i:])
			continue
		}
		i += size
		if dropped(r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isClean(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || r == 0x1b || dropped(r) {
			return false
		}
	}
	return true
}

func dropped(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case unicode.IsControl(r):
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, // ALM, LRM, RLM
		r >= 0x202a && r <= 0x202e, // LRE, RLE, PDF, LRO, RLO
		r >= 0x2066 && r <= 0x2069: // LRI, RLI, FSI, PDI
		return true
	}
	return false
}

// escapeLen is the length of the terminal escape sequence at the start of s
// (which begins with ESC): CSI "ESC [ params intermediates final", OSC
// "ESC ] ... BEL or ESC \", or ESC plus one character.
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[':
		for i := 2; i < len(s); i++ {
			if s[i] >= 0x40 && s[i] <= 0x7e {
				return i + 1
			}
			if s[i] < 0x20 || s[i] > 0x7e { // not part of a CSI: stop before it
				return i
			}
		}
		return len(s)
	case ']':
		for i := 2; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		}
		return len(s)
	}
	_, size := utf8.DecodeRuneInString(s[1:])
	return 1 + size
}

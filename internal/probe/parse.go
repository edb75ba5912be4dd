package probe

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// maxDetail bounds Result.Detail: one line of a tool's output is enough.
const maxDetail = 300

// Words in tool output, matched without regard to case. Each list covers
// busybox, iputils and netcat-openbsd on glibc and musl.
var (
	nameWords = []string{
		"bad address",                          // busybox (ping, nc)
		"name or service not known",            // iputils, glibc
		"name does not resolve",                // iputils, musl
		"temporary failure in name resolution", // glibc, no DNS server answered
		"no address associated",                // glibc, a name with no A record
		"unknown host",                         // older iputils
		"could not resolve",                    // ncat
		"forward host lookup failed",           // traditional netcat
		"nodename nor servname",                // BSD libc
		"getaddrinfo",                          // netcat-openbsd prefixes its lookup errors
	}
	noRouteWords = []string{
		"network is unreachable", "no route to host",
		"destination host unreachable", "destination net unreachable",
		"host unreachable", "net unreachable",
	}
	permissionWords = []string{"permission denied", "operation not permitted", "are you root", "lacking privilege"}
	badOptionWords  = []string{"invalid option", "unrecognized option", "illegal option", "unknown option"}
	timeoutWords    = []string{"timed out", "timeout"}
)

var (
	// "PING database (172.17.0.3) 56(84) bytes of data." (iputils),
	// "PING database (172.17.0.3): 56 data bytes" (busybox).
	pingResolved = regexp.MustCompile(`(?m)^PING\s+\S+\s+\(([0-9A-Fa-f.:]+)\)`)
	// "time=0.080 ms", "time<1 ms", "time=1.211 ms".
	pingRTT = regexp.MustCompile(`time[=<]\s*([0-9]+(?:\.[0-9]+)?)\s*ms`)
	// An IPv4 address in parentheses, as nc prints the address it tried.
	parenIP = regexp.MustCompile(`\((\d{1,3}(?:\.\d{1,3}){3})\)`)
)

// parsePing reads what `ping -c 1 -W n target` printed (stdout and stderr
// together) and exited with, from busybox or iputils. unusable reports
// that the container cannot ping at all (no binary, no permission), so the
// probe should be run another way; o.detail then says why.
func parsePing(exit int, out string) (o outcome, unusable bool) {
	if missingBinary(exit) {
		return outcome{failure: FailImpossible, detail: firstLine(out, "ping is not installed")}, true
	}
	if l := findLine(out, permissionWords...); l != "" {
		return outcome{failure: FailImpossible, detail: l}, true
	}
	if m := pingResolved.FindStringSubmatch(out); m != nil {
		o.resolved = m[1]
	}
	if exit == 0 {
		o.ok = true
		if m := pingRTT.FindStringSubmatch(out); m != nil {
			o.rttMs, _ = strconv.ParseFloat(m[1], 64)
		}
		o.detail = findLine(out, "bytes from")
		return o, false
	}
	switch {
	case findLine(out, nameWords...) != "":
		o.failure, o.detail = FailName, findLine(out, nameWords...)
	case findLine(out, noRouteWords...) != "":
		o.failure, o.detail = FailNoRoute, findLine(out, noRouteWords...)
	case exit == 1:
		// Both pings exit 1 when no reply came, 2 on other errors.
		o.failure, o.detail = FailTimeout, firstLine(findLine(out, "packet loss"), "no reply")
	default:
		o.failure, o.detail = FailImpossible, firstLine(out, fmt.Sprintf("ping exited with status %d", exit))
	}
	return o, false
}

// ncVerdict says whether an nc run answered the question.
type ncVerdict int

const (
	ncAnswered ncVerdict = iota // o holds the finding
	ncMissing                   // no nc in the container
	ncNoZ                       // nc does not know -z or -v
)

// parseNC reads what `nc -z -v -w n target port` (or busybox's plain
// `nc -w n target port`) printed and exited with.
func parseNC(exit int, out string) (o outcome, v ncVerdict) {
	if missingBinary(exit) {
		return outcome{failure: FailImpossible, detail: firstLine(out, "nc is not installed")}, ncMissing
	}
	if l := findLine(out, badOptionWords...); l != "" {
		return outcome{failure: FailImpossible, detail: l}, ncNoZ
	}
	var line string
	switch {
	case exit == 0:
		o.ok = true
		line = findLine(out, "succeeded", "connected", "open")
		o.detail = firstLine(line, "connected")
	case findLine(out, nameWords...) != "":
		line = findLine(out, nameWords...)
		o.failure, o.detail = FailName, line
	case findLine(out, "refused") != "":
		line = findLine(out, "refused")
		o.failure, o.detail = FailRefused, line
	case findLine(out, noRouteWords...) != "":
		line = findLine(out, noRouteWords...)
		o.failure, o.detail = FailNoRoute, line
	case findLine(out, timeoutWords...) != "":
		line = findLine(out, timeoutWords...)
		o.failure, o.detail = FailTimeout, line
	default:
		o.failure, o.detail = FailImpossible, firstLine(out, fmt.Sprintf("nc exited with status %d and said nothing", exit))
	}
	if m := parenIP.FindStringSubmatch(line); m != nil {
		o.resolved = m[1]
	}
	return o, ncAnswered
}

// missingBinary: the engine reports a command it could not start as 126
// (found but not executable; engine 20.10 also uses it for "executable
// file not found") or 127 (not found), as a shell would.
func missingBinary(exit int) bool { return exit == 126 || exit == 127 }

// findLine returns the first line of out that contains one of words,
// ignoring case, trimmed and cut to maxDetail; "" if none does.
func findLine(out string, words ...string) string {
	for line := range strings.Lines(out) {
		l := strings.ToLower(line)
		for _, w := range words {
			if strings.Contains(l, w) {
				return cut(strings.TrimSpace(line))
			}
		}
	}
	return ""
}

// firstLine returns the first non-blank line of out, or def.
func firstLine(out, def string) string {
	for line := range strings.Lines(out) {
		if l := strings.TrimSpace(line); l != "" {
			return cut(l)
		}
	}
	return def
}

func cut(s string) string {
	if len(s) <= maxDetail {
		return s
	}
	return s[:maxDetail] + "…"
}

// Lists the identities of the ssh agent at $SSH_AUTH_SOCK: one comment per line.
package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
)

func main() {
	conn, err := net.Dial("unix", os.Getenv("SSH_AUTH_SOCK"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "agent:", err)
		os.Exit(1)
	}
	// SSH2_AGENTC_REQUEST_IDENTITIES (11) in a 1-byte message
	conn.Write([]byte{0, 0, 0, 1, 11})
	var length uint32
	if err := binary.Read(conn, binary.BigEndian, &length); err != nil {
		panic(err)
	}
	answer := make([]byte, length)
	if _, err := io.ReadFull(conn, answer); err != nil {
		panic(err)
	}
	if answer[0] != 12 { // SSH2_AGENT_IDENTITIES_ANSWER
		panic(fmt.Sprintf("unexpected agent answer %d", answer[0]))
	}
	count := binary.BigEndian.Uint32(answer[1:5])
	rest := answer[5:]
	for i := uint32(0); i < count; i++ {
		blob := binary.BigEndian.Uint32(rest)
		rest = rest[4+blob:]
		comment := binary.BigEndian.Uint32(rest)
		fmt.Println(string(rest[4 : 4+comment]))
		rest = rest[4+comment:]
	}
}

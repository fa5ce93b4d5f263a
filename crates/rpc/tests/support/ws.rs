//! A minimal blocking WebSocket client (RFC 6455) for the tests: the upgrade
//! handshake, masked text frames out, unmasked frames in (pings answered,
//! fragments not expected).

#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream},
    time::Duration,
};

pub(crate) struct WsClient {
    reader: BufReader<TcpStream>,
}

impl WsClient {
    pub(crate) fn connect(addr: SocketAddr) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut reader = BufReader::new(stream);
        let request = format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        reader.get_mut().write_all(request.as_bytes())?;
        let mut status = String::new();
        reader.read_line(&mut status)?;
        if !status.contains("101") {
            return Err(std::io::Error::other(format!("upgrade refused: {status}")));
        }
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            if line.trim().is_empty() {
                break;
            }
        }
        Ok(Self { reader })
    }

    fn write_frame(&mut self, opcode: u8, payload: &[u8]) -> std::io::Result<()> {
        let mask = [0x37u8, 0xfa, 0x21, 0x3d];
        let mut frame = vec![0x80 | opcode];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n <= 0xffff => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.reader.get_mut().write_all(&frame)
    }

    pub(crate) fn send(&mut self, text: &str) -> std::io::Result<()> {
        self.write_frame(0x1, text.as_bytes())
    }

    /// The next text message.
    pub(crate) fn recv(&mut self) -> std::io::Result<String> {
        loop {
            let mut head = [0u8; 2];
            self.reader.read_exact(&mut head)?;
            let opcode = head[0] & 0x0f;
            let mut len = u64::from(head[1] & 0x7f);
            if len == 126 {
                let mut b = [0u8; 2];
                self.reader.read_exact(&mut b)?;
                len = u64::from(u16::from_be_bytes(b));
            } else if len == 127 {
                let mut b = [0u8; 8];
                self.reader.read_exact(&mut b)?;
                len = u64::from_be_bytes(b);
            }
            let mut payload = vec![0u8; len as usize];
            self.reader.read_exact(&mut payload)?;
            match opcode {
                0x1 => return String::from_utf8(payload).map_err(std::io::Error::other),
                0x9 => self.write_frame(0xA, &payload)?,
                0x8 => return Err(std::io::Error::other("closed")),
                _ => {}
            }
        }
    }
}

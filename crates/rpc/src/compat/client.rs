//! A minimal HTTP/1.1 JSON-RPC client over loopback TCP: one POST per
//! request on a kept-alive connection, enough to replay the suite without an
//! HTTP stack in the binary.

use super::{CompatError as Error, Result};
use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream},
    time::Duration,
};

/// A kept-alive connection to a JSON-RPC HTTP endpoint.
#[derive(Debug)]
pub struct HttpClient {
    addr: SocketAddr,
    conn: Option<BufReader<TcpStream>>,
}

impl HttpClient {
    /// A client for `addr` (connects lazily).
    pub const fn new(addr: SocketAddr) -> Self {
        Self { addr, conn: None }
    }

    /// POSTs `body` and returns the response body; reconnects once if the
    /// kept-alive connection was closed.
    pub fn post(&mut self, body: &str) -> Result<String> {
        match self.try_post(body) {
            Ok(r) => Ok(r),
            Err(_) => {
                self.conn = None;
                self.try_post(body)
            }
        }
    }

    fn try_post(&mut self, body: &str) -> Result<String> {
        if self.conn.is_none() {
            let stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5))?;
            stream.set_read_timeout(Some(Duration::from_secs(60)))?;
            stream.set_nodelay(true)?;
            self.conn = Some(BufReader::new(stream));
        }
        let conn = self.conn.as_mut().ok_or_else(|| Error::Http("no connection".into()))?;
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        let stream = conn.get_mut();
        stream.write_all(head.as_bytes())?;
        stream.write_all(body.as_bytes())?;
        let mut status = String::new();
        conn.read_line(&mut status)?;
        if status.is_empty() {
            return Err(Error::Http("connection closed".into()));
        }
        let mut length = None;
        loop {
            let mut line = String::new();
            conn.read_line(&mut line)?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = Some(
                    value
                        .trim()
                        .parse::<usize>()
                        .map_err(|e| Error::Http(format!("bad Content-Length: {e}")))?,
                );
            }
        }
        let length = length
            .ok_or_else(|| Error::Http(format!("response without Content-Length ({})", status.trim())))?;
        let mut buf = vec![0; length];
        conn.read_exact(&mut buf)?;
        String::from_utf8(buf).map_err(|e| Error::Http(format!("response is not UTF-8: {e}")))
    }
}

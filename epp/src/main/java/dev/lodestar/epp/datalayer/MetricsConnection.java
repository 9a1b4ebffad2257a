package dev.lodestar.epp.datalayer;

import dev.lodestar.epp.framework.datalayer.EndpointMetadata;

import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * One endpoint's kept-alive HTTP/1.1 connection for metrics scrapes, with a buffer reused from scrape to
 * scrape. Blocking, for a scrape loop's own virtual thread; not thread-safe.
 *
 * <p>A deliberately small client: GET only; responses framed by Content-Length, chunked encoding or the
 * end of the connection; no redirects, no compression. A scrape of every endpoint every 50 ms through
 * {@code java.net.http.HttpClient} cost about ten times the CPU, which all went to that client's
 * asynchronous machinery rather than to the request.
 */
public final class MetricsConnection implements AutoCloseable {
    /** Bodies beyond this are refused rather than buffered. */
    static final int MAX_BODY = 64 << 20;
    private static final int MAX_HEADER = 64 << 10;
    private static final byte[] CRLF_CRLF = {'\r', '\n', '\r', '\n'};

    private final MetricsDataSource source;
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    private String connectedTo;
    private boolean used;
    private byte[] buffer = new byte[16 << 10];
    private int filled;
    private long deadline;

    MetricsConnection(MetricsDataSource source) {
        this.source = source;
    }

    /**
     * Fetches the endpoint's metrics body within the source's timeout. The result shares this
     * connection's buffer and is valid until the next fetch.
     *
     * @throws IOException on a connection failure, a timeout ({@link SocketTimeoutException}), a status
     *                     other than 200 or a malformed response
     */
    public Body fetch(EndpointMetadata endpoint) throws IOException {
        try {
            return fetchWithinDeadline(endpoint);
        } catch (SocketTimeoutException e) {
            SocketTimeoutException timeout = new SocketTimeoutException("timed out after "
                    + source.timeout().toMillis() + " ms");
            timeout.initCause(e);
            throw timeout;
        }
    }

    private Body fetchWithinDeadline(EndpointMetadata endpoint) throws IOException {
        deadline = System.nanoTime() + source.timeout().toNanos();
        String hostPort = endpoint.metricsHost();
        if (socket != null && !hostPort.equals(connectedTo)) {
            close();
        }
        if (socket != null && used) {
            try {
                return exchange(hostPort);
            } catch (StaleConnectionException e) {
                // The server closed the idle connection before our request reached it: one fresh try.
                close();
            }
        }
        try {
            return exchange(hostPort);
        } catch (StaleConnectionException e) {
            throw new IOException("connection to " + hostPort + " closed before the response", e);
        }
    }

    private Body exchange(String hostPort) throws IOException {
        boolean fresh = socket == null;
        if (fresh) {
            connect(hostPort);
        }
        boolean keepOpen = false;
        try {
            try {
                out.write(request(hostPort));
                out.flush();
            } catch (IOException e) {
                throw fresh ? e : new StaleConnectionException(e);
            }
            filled = 0;
            int headerEnd = readHeader(fresh);
            Response response = Response.parse(buffer, headerEnd, source.target(hostPort));
            if (response.status() != 200) {
                throw new IOException("unexpected status " + response.status() + " from " + source.target(hostPort));
            }
            Body body = readBody(response, headerEnd);
            keepOpen = response.keepAlive();
            used = true;
            return body;
        } finally {
            if (!keepOpen) {
                close();
            }
        }
    }

    private void connect(String hostPort) throws IOException {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0) {
            throw new IOException("metrics host '" + hostPort + "' is not host:port");
        }
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(hostPort.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IOException("metrics host '" + hostPort + "' has no valid port", e);
        }
        Socket plain = new Socket();
        try {
            plain.setTcpNoDelay(true);
            plain.connect(new InetSocketAddress(host, port), remainingMillis());
            Socket connected = plain;
            if (source.tls().isPresent()) {
                SSLSocket tls = (SSLSocket) source.tls().get().getSocketFactory().createSocket(plain, host, port, true);
                if (!source.insecureSkipVerify()) {
                    SSLParameters parameters = tls.getSSLParameters();
                    parameters.setEndpointIdentificationAlgorithm("HTTPS");
                    tls.setSSLParameters(parameters);
                }
                tls.setSoTimeout(remainingMillis());
                tls.startHandshake();
                connected = tls;
            }
            socket = connected;
            in = connected.getInputStream();
            out = connected.getOutputStream();
            connectedTo = hostPort;
            used = false;
        } catch (IOException | RuntimeException e) {
            plain.close();
            throw e;
        }
    }

    private byte[] request(String hostPort) {
        return ("GET " + source.path() + " HTTP/1.1\r\nHost: " + hostPort
                + "\r\nUser-Agent: lodestar-epp\r\nAccept: text/plain;version=0.0.4;q=1.0,*/*;q=0.1\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Reads up to the blank line after the headers; returns the index just past it. */
    private int readHeader(boolean fresh) throws IOException {
        int searched = 0;
        while (true) {
            int end = indexOf(buffer, CRLF_CRLF, Math.max(0, searched - 3), filled);
            if (end >= 0) {
                return end + CRLF_CRLF.length;
            }
            searched = filled;
            if (filled >= MAX_HEADER) {
                throw new IOException("response header larger than " + MAX_HEADER + " bytes");
            }
            int read;
            try {
                read = readMore();
            } catch (SocketTimeoutException e) {
                throw e;
            } catch (IOException e) {
                throw fresh || filled > 0 ? e : new StaleConnectionException(e);
            }
            if (read < 0) {
                if (!fresh && filled == 0) {
                    throw new StaleConnectionException(new IOException("end of stream"));
                }
                throw new IOException("connection closed in the response header");
            }
        }
    }

    private Body readBody(Response response, int start) throws IOException {
        if (response.chunked()) {
            return readChunked(start);
        }
        if (response.contentLength() >= 0) {
            long length = response.contentLength();
            if (length > MAX_BODY) {
                throw new IOException("metrics body of " + length + " bytes is larger than " + MAX_BODY);
            }
            int end = start + (int) length;
            while (filled < end) {
                if (readMore(end) < 0) {
                    throw new IOException("connection closed after " + (filled - start) + " of " + length
                            + " body bytes");
                }
            }
            return new Body(buffer, start, (int) length);
        }
        while (readMore(filled + 8192) >= 0) {
            if (filled - start > MAX_BODY) {
                throw new IOException("metrics body larger than " + MAX_BODY + " bytes");
            }
        }
        return new Body(buffer, start, filled - start);
    }

    /** Decodes a chunked body in place: chunk data is moved down over the size lines before it. */
    private Body readChunked(int start) throws IOException {
        int read = start;
        int write = start;
        while (true) {
            int lineEnd = lineEnd(read);
            int size = chunkSize(read, lineEnd);
            read = lineEnd + 2;
            if (size == 0) {
                // Trailers, if any, end with an empty line.
                while (true) {
                    int trailerEnd = lineEnd(read);
                    boolean empty = trailerEnd == read;
                    read = trailerEnd + 2;
                    if (empty) {
                        return new Body(buffer, start, write - start);
                    }
                }
            }
            if ((long) write - start + size > MAX_BODY) {
                throw new IOException("metrics body larger than " + MAX_BODY + " bytes");
            }
            while (filled < read + size + 2) {
                if (readMore(read + size + 2) < 0) {
                    throw new IOException("connection closed in a chunk");
                }
            }
            System.arraycopy(buffer, read, buffer, write, size);
            write += size;
            read += size;
            if (buffer[read] != '\r' || buffer[read + 1] != '\n') {
                throw new IOException("malformed chunked encoding: no CRLF after a chunk");
            }
            read += 2;
        }
    }

    /** The index of the CR of the line starting at {@code from}, reading more as needed. */
    private int lineEnd(int from) throws IOException {
        int searched = from;
        while (true) {
            for (int i = searched; i + 1 < filled; i++) {
                if (buffer[i] == '\r' && buffer[i + 1] == '\n') {
                    return i;
                }
            }
            searched = Math.max(from, filled - 1);
            if (filled - from > 4096) {
                throw new IOException("malformed chunked encoding: line too long");
            }
            if (readMore(filled + 1024) < 0) {
                throw new IOException("connection closed in a chunk header");
            }
        }
    }

    private int chunkSize(int from, int to) throws IOException {
        int size = 0;
        int i = from;
        for (; i < to; i++) {
            int digit = Character.digit(buffer[i], 16);
            if (digit < 0) {
                break;
            }
            if (size > (MAX_BODY >> 4)) {
                throw new IOException("chunk larger than " + MAX_BODY + " bytes");
            }
            size = size * 16 + digit;
        }
        if (i == from || (i < to && buffer[i] != ';' && buffer[i] != ' ' && buffer[i] != '\t')) {
            throw new IOException("malformed chunked encoding: bad chunk size");
        }
        return size;
    }

    private int readMore() throws IOException {
        return readMore(filled + 1);
    }

    /** Reads once, growing the buffer so that at least {@code needed} bytes fit; -1 at the end of stream. */
    private int readMore(int needed) throws IOException {
        if (needed > buffer.length || filled == buffer.length) {
            long size = Math.min(Math.max(needed, buffer.length * 2L), (long) MAX_HEADER + MAX_BODY + 4096);
            if (size < needed || size == filled) {
                throw new IOException("metrics response larger than " + MAX_BODY + " bytes");
            }
            byte[] grown = new byte[(int) size];
            System.arraycopy(buffer, 0, grown, 0, filled);
            buffer = grown;
        }
        socket.setSoTimeout(remainingMillis());
        int read = in.read(buffer, filled, buffer.length - filled);
        if (read > 0) {
            filled += read;
        }
        return read;
    }

    private int remainingMillis() throws SocketTimeoutException {
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) {
            throw new SocketTimeoutException("deadline passed");
        }
        return (int) Math.max(1, remaining / 1_000_000);
    }

    private static int indexOf(byte[] haystack, byte[] needle, int from, int to) {
        outer:
        for (int i = from; i <= to - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Override
    public void close() {
        Socket current = socket;
        socket = null;
        in = null;
        out = null;
        connectedTo = null;
        if (current != null) {
            try {
                current.close();
            } catch (IOException ignored) {
                // Closing a socket we are done with; nothing to do about a failure.
            }
        }
    }

    /** A response body: {@code length} bytes of {@code bytes} from {@code offset}, valid until the next fetch. */
    public record Body(byte[] bytes, int offset, int length) {
    }

    /** The server closed a reused connection before answering; safe to retry the GET once. */
    private static final class StaleConnectionException extends IOException {
        StaleConnectionException(IOException cause) {
            super(cause);
        }
    }

    /** What the scraper needs from the status line and headers. */
    private record Response(int status, long contentLength, boolean chunked, boolean keepAlive) {
        static Response parse(byte[] buffer, int headerEnd, Object target) throws IOException {
            String header = new String(buffer, 0, headerEnd, StandardCharsets.ISO_8859_1);
            String[] lines = header.split("\r\n");
            String[] statusLine = lines[0].split(" ", 3);
            if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/1.")) {
                throw new IOException("not an HTTP/1.x response from " + target + ": " + lines[0]);
            }
            int status;
            try {
                status = Integer.parseInt(statusLine[1]);
            } catch (NumberFormatException e) {
                throw new IOException("bad status line from " + target + ": " + lines[0], e);
            }
            boolean http10 = statusLine[0].equals("HTTP/1.0");
            long contentLength = -1;
            boolean chunked = false;
            String connection = "";
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon <= 0) {
                    continue;
                }
                String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = lines[i].substring(colon + 1).trim();
                switch (name) {
                    case "content-length" -> {
                        try {
                            contentLength = Long.parseLong(value);
                        } catch (NumberFormatException e) {
                            throw new IOException("bad Content-Length from " + target + ": " + value, e);
                        }
                    }
                    case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).endsWith("chunked");
                    case "connection" -> connection = value.toLowerCase(Locale.ROOT);
                    default -> {
                    }
                }
            }
            boolean framed = chunked || contentLength >= 0;
            boolean keepAlive = framed && !connection.contains("close") && (!http10 || connection.contains("keep-alive"));
            return new Response(status, contentLength, chunked, keepAlive);
        }
    }
}

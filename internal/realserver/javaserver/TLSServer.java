// TLSServer is realserver's Java TLS server (JSSE's SSLServerSocket):
// every protocol and every cipher suite the JDK supports enabled, the keys
// of a PKCS12 keystore, one handshake per connection, then a close.
//
// Usage: java TLSServer <host> <port> <keystore.p12> <password>
// It prints "listening" once it listens. What the JDK disables by
// default (jdk.tls.disabledAlgorithms …) is cleared by the starter's
// java.security file, not here.
import java.io.FileInputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

public final class TLSServer {
    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: TLSServer host port keystore.p12 password");
            System.exit(2);
        }
        char[] pass = args[3].toCharArray();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(args[2])) {
            ks.load(in, pass);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pass);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        SSLServerSocket ss = (SSLServerSocket) ctx.getServerSocketFactory()
                .createServerSocket(Integer.parseInt(args[1]), 128, InetAddress.getByName(args[0]));
        ss.setEnabledProtocols(ss.getSupportedProtocols());
        ss.setEnabledCipherSuites(ss.getSupportedCipherSuites());
        System.out.println("protocols " + String.join(",", ss.getEnabledProtocols()));
        System.out.println("suites " + String.join(",", ss.getEnabledCipherSuites()));
        System.out.println("listening");
        System.out.flush();
        while (true) {
            Socket c = ss.accept();
            Thread t = new Thread(() -> handle((SSLSocket) c));
            t.setDaemon(true);
            t.start();
        }
    }

    // handle completes the handshake and closes; a failed handshake is
    // the client's business, not logged.
    private static void handle(SSLSocket c) {
        try (c) {
            c.setSoTimeout(10000);
            c.startHandshake();
        } catch (Exception e) {
            // the scanner's hellos are refused or abandoned by design
        }
    }
}

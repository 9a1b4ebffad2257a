package dev.lodestar.epp.tls;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ServingCertificateLoadTest {
    @TempDir
    Path directory;

    @Test
    void loadsPkcs1RsaKey() throws Exception {
        KeyPair keys = TestPki.rsa();
        X509Certificate certificate = TestPki.selfSigned("CN=pkcs1", keys);
        Files.writeString(directory.resolve("tls.crt"), TestPki.pem(certificate));
        Files.writeString(directory.resolve("tls.key"), TestPki.traditionalKey(keys));
        assertThat(Files.readString(directory.resolve("tls.key"))).startsWith("-----BEGIN RSA PRIVATE KEY-----");

        ServingCertificate loaded = ServingCertificate.load(directory);

        assertThat(loaded.leaf()).isEqualTo(certificate);
        assertThat(loaded.key().getEncoded()).isEqualTo(keys.getPrivate().getEncoded());
    }

    @Test
    void loadsPkcs8RsaKey() throws Exception {
        KeyPair keys = TestPki.rsa();
        X509Certificate certificate = TestPki.selfSigned("CN=pkcs8", keys);
        Files.writeString(directory.resolve("tls.crt"), TestPki.pem(certificate));
        Files.writeString(directory.resolve("tls.key"), TestPki.pkcs8Key(keys));
        assertThat(Files.readString(directory.resolve("tls.key"))).startsWith("-----BEGIN PRIVATE KEY-----");

        assertThat(ServingCertificate.load(directory).leaf()).isEqualTo(certificate);
    }

    @Test
    void loadsSec1EcKeyAfterEcParameters() throws Exception {
        KeyPair keys = TestPki.ec();
        X509Certificate certificate = TestPki.selfSigned("CN=ec", keys);
        Files.writeString(directory.resolve("tls.crt"), TestPki.pem(certificate));
        // openssl ecparam -genkey writes an EC PARAMETERS block before the key.
        Files.writeString(directory.resolve("tls.key"),
                "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
                        + TestPki.traditionalKey(keys));
        assertThat(Files.readString(directory.resolve("tls.key"))).contains("-----BEGIN EC PRIVATE KEY-----");

        ServingCertificate loaded = ServingCertificate.load(directory);

        assertThat(loaded.key().getAlgorithm()).isEqualTo("EC");
        assertThat(loaded.leaf()).isEqualTo(certificate);
    }

    @Test
    void keepsTheChainInFileOrder() throws Exception {
        KeyPair caKeys = TestPki.rsa();
        KeyPair leafKeys = TestPki.rsa();
        X509Certificate ca = TestPki.selfSigned("CN=ca", caKeys);
        X509Certificate leaf = TestPki.certificate("CN=leaf", leafKeys, "CN=ca", caKeys);
        Files.writeString(directory.resolve("tls.crt"), TestPki.pem(leaf, ca));
        Files.writeString(directory.resolve("tls.key"), TestPki.pkcs8Key(leafKeys));

        assertThat(ServingCertificate.load(directory).chain()).containsExactly(leaf, ca);
    }

    @Test
    void rejectsAKeyOfAnotherCertificate() throws Exception {
        Files.writeString(directory.resolve("tls.crt"), TestPki.pem(TestPki.selfSigned("CN=a", TestPki.rsa())));
        Files.writeString(directory.resolve("tls.key"), TestPki.pkcs8Key(TestPki.rsa()));

        assertThatThrownBy(() -> ServingCertificate.load(directory)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not match");
    }

    @Test
    void rejectsMissingFiles() throws Exception {
        assertThatThrownBy(() -> ServingCertificate.load(directory)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tls.crt").hasMessageContaining("does not exist");

        Files.writeString(directory.resolve("tls.crt"), TestPki.pem(TestPki.selfSigned("CN=a", TestPki.rsa())));
        assertThatThrownBy(() -> ServingCertificate.load(directory)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tls.key").hasMessageContaining("does not exist");
    }

    @Test
    void rejectsFilesWithoutTheExpectedBlocks() throws Exception {
        KeyPair keys = TestPki.rsa();
        Files.writeString(directory.resolve("tls.crt"), TestPki.pkcs8Key(keys));
        Files.writeString(directory.resolve("tls.key"), TestPki.pkcs8Key(keys));
        assertThatThrownBy(() -> ServingCertificate.load(directory)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no CERTIFICATE block");

        X509Certificate certificate = TestPki.selfSigned("CN=a", keys);
        Files.writeString(directory.resolve("tls.crt"), TestPki.pem(certificate));
        Files.writeString(directory.resolve("tls.key"), TestPki.pem(certificate));
        assertThatThrownBy(() -> ServingCertificate.load(directory)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no private key block");
    }

    @Test
    void rejectsEncryptedKeys() throws Exception {
        KeyPair keys = TestPki.rsa();
        Files.writeString(directory.resolve("tls.crt"), TestPki.pem(TestPki.selfSigned("CN=a", keys)));
        Files.writeString(directory.resolve("tls.key"), TestPki.pem(
                new org.bouncycastle.openssl.jcajce.JcaMiscPEMGenerator(keys.getPrivate(),
                        new org.bouncycastle.openssl.jcajce.JcePEMEncryptorBuilder("AES-128-CBC")
                                .setProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider())
                                .build("secret".toCharArray()))));

        assertThatThrownBy(() -> ServingCertificate.load(directory)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("encrypted");
    }
}

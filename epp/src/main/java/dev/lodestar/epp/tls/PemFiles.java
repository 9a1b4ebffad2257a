package dev.lodestar.epp.tls;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a certificate chain and its private key from PEM files, as Go's {@code tls.LoadX509KeyPair}:
 * every CERTIFICATE block of the certificate file (leaf first), the first private key of the key file
 * (PKCS#1, SEC1 or PKCS#8; other blocks such as EC PARAMETERS are skipped), and a check that the key
 * belongs to the leaf.
 */
final class PemFiles {
    private PemFiles() {
    }

    static ServingCertificate load(Path certificateFile, Path keyFile) {
        List<X509Certificate> chain = certificates(certificateFile);
        PrivateKey key = privateKey(keyFile);
        requireMatch(key, chain.getFirst(), certificateFile, keyFile);
        return new ServingCertificate(key, chain);
    }

    private static List<X509Certificate> certificates(Path file) {
        List<X509Certificate> chain = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
             PEMParser parser = new PEMParser(reader)) {
            JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
            for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
                if (object instanceof X509CertificateHolder holder) {
                    chain.add(converter.getCertificate(holder));
                }
            }
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("certificate file " + file + " does not exist", e);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException("cannot read certificates from " + file + ": " + e.getMessage(), e);
        }
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("no CERTIFICATE block in " + file);
        }
        return chain;
    }

    private static PrivateKey privateKey(Path file) {
        Object block = firstKeyBlock(file);
        try {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            return switch (block) {
                case PEMKeyPair pair -> converter.getPrivateKey(pair.getPrivateKeyInfo());
                case PrivateKeyInfo info -> converter.getPrivateKey(info);
                default -> throw new IllegalArgumentException(
                        "key file " + file + " holds an encrypted key; it must be unencrypted");
            };
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot decode the private key in " + file + ": " + e.getMessage(), e);
        }
    }

    private static Object firstKeyBlock(Path file) {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
             PEMParser parser = new PEMParser(reader)) {
            for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
                if (object instanceof PEMKeyPair || object instanceof PrivateKeyInfo
                        || object instanceof PEMEncryptedKeyPair || object instanceof PKCS8EncryptedPrivateKeyInfo) {
                    return object;
                }
            }
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("key file " + file + " does not exist", e);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot read the private key from " + file + ": " + e.getMessage(), e);
        }
        throw new IllegalArgumentException("no private key block in " + file);
    }

    /** Signs with the key and verifies with the certificate: works for RSA, EC and EdDSA alike. */
    private static void requireMatch(PrivateKey key, X509Certificate leaf, Path certificateFile, Path keyFile) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> throw new IllegalArgumentException("unsupported private key type " + key.getAlgorithm()
                    + " in " + keyFile + " (RSA, EC or Ed25519)");
        };
        try {
            byte[] probe = new byte[32];
            new SecureRandom().nextBytes(probe);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(leaf.getPublicKey());
            verifier.update(probe);
            if (!verifier.verify(signature)) {
                throw new IllegalArgumentException(
                        "the private key in " + keyFile + " does not match the certificate in " + certificateFile);
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(
                    "the private key in " + keyFile + " does not match the certificate in " + certificateFile, e);
        }
    }
}

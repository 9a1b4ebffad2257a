package dev.lodestar.epp.tls;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;

/**
 * The self-signed certificate of GIE's {@code internal/tls/tls.go}: RSA 4096, subject and issuer
 * {@code O=Inference Ext} and nothing else (no SANs), a random 128-bit serial, valid from now for
 * 3650 days (10 x 365, not calendar years), key usage digitalSignature + keyEncipherment (critical),
 * extended key usage serverAuth, basic constraints CA:false (critical), SHA256withRSA.
 */
final class SelfSignedCertificates {
    static final int KEY_BITS = 4096;
    static final Duration VALIDITY = Duration.ofHours(24 * 365 * 10);
    static final String ORGANIZATION = "Inference Ext";

    private SelfSignedCertificates() {
    }

    static ServingCertificate generate(Clock clock) {
        try {
            SecureRandom random = new SecureRandom();
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(KEY_BITS, random);
            KeyPair keys = generator.generateKeyPair();

            // X.509 times have whole seconds; truncating keeps notAfter - notBefore exactly VALIDITY.
            Instant notBefore = clock.instant().truncatedTo(ChronoUnit.SECONDS);
            X500Name name = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, ORGANIZATION).build();
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name,
                    new BigInteger(128, random), Date.from(notBefore), Date.from(notBefore.plus(VALIDITY)), name,
                    keys.getPublic());
            builder.addExtension(Extension.keyUsage, true,
                    new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            X509CertificateHolder holder = builder.build(
                    new JcaContentSignerBuilder("SHA256withRSA").setSecureRandom(random).build(keys.getPrivate()));
            return new ServingCertificate(keys.getPrivate(),
                    List.of(new JcaX509CertificateConverter().getCertificate(holder)));
        } catch (GeneralSecurityException | OperatorCreationException | CertIOException e) {
            throw new IllegalStateException("cannot create the self-signed serving certificate", e);
        }
    }
}

"""Example request bodies of the Kraken REST API v1.0 Integrator's Guide
(shared/seeds/000_23d40663e8688b3f.txt), copied verbatim.

Only whitespace differs from the seed: the PDF-to-text conversion broke long
URLs across lines (and left trailing blanks); those breaks are joined here so
that a link is one token. ``test_seed_bodies.py`` checks that every body below,
whitespace removed, occurs in the seed text.

The ids in the seed's stream bodies name resources that do not exist on a
fresh appliance. ``SEED_IDS_*`` list them so a test can send the body as it
is (and expect 400 naming the element) and then again with
``replace_ids(body, {seed_id: real_id})``.
"""

# --- Input Resources > Create a New Input > Stream Input -------------------
INPUT_CREATE_STREAM = """\
<input>
  <name>Another input</name>
  <url>udp://239.207.1.3:9002</url>
  <description>Another note</description>
  <streamType>MJPEGRAW</streamType>
  <interface>https://10.6.60.202/apis/servers/serverbc305be293d3/nics/nic-eth1</interface>
</input>
"""

# --- Input Resources > Create a New Input > Capture Card Input -------------
INPUT_CREATE_CAPTURE_CARD = """\
<input>
  <name>CAPTURE_CARD</name>
  <streamType>V4L2</streamType>
  <capture_card>0</capture_card>
  <capture_mode>-1</capture_mode>
  <description>from channel 2</description>
</input>
"""

# --- Input Resources > Create a New Input > DeckLink Input -----------------
INPUT_CREATE_DECKLINK = """\
<input>
  <name>DECKLINK</name>
  <streamType>DECKLINK</streamType>
  <decklinkPort>0</decklinkPort>
  <decklinkMode>7</decklinkMode>
  <description>live camera</description>
</input>
"""

# --- Input Resources > Edit an Input ---------------------------------------
INPUT_EDIT = """\
<input>
  <name>New name</name>
  <url>udp://239.207.1.4:9004</url>
  <description>New note</description>
  <streamType>MPEG2TS</streamType>
  <interface>https://10.6.60.202/apis/servers/serverbc305be293d3/nics/nic-eth0</interface>
</input>
"""

# --- Output Resources > Create a New Output --------------------------------
OUTPUT_CREATE = """\
<output>
  <name>Another output</name>
  <url>udp://239.202.1.3:4900</url>
  <description>A description</description>
  <mtu>1442</mtu>
  <ttl>16</ttl>
  <tos>128</tos>
  <sap>
    <transmitSap>on</transmitSap>
    <address>224.2.127.254</address>
    <port>9875</port>
    <sessionName>A name</sessionName>
    <sessionDescription>A description</sessionDescription>
    <keywords>A keyword</keywords>
    <author>An author</author>
  </sap>
  <interface>https://10.6.60.202/apis/servers/serverbc305be293d3/nics/nic-eth1</interface>
</output>
"""

# --- Output Resources > Edit an Output -------------------------------------
OUTPUT_EDIT = """\
<output>
  <name>New name</name>
  <url>udp://239.202.1.4:4900</url>
  <description>New description</description>
  <mtu>500</mtu>
  <ttl>24</ttl>
  <tos>156</tos>
  <sap>
    <transmitSap>on</transmitSap>
    <address>224.2.127.254</address>
    <port>9875</port>
    <sessionName>A name</sessionName>
    <sessionDescription>A description</sessionDescription>
    <keywords>A keyword</keywords>
    <author>An author</author>
  </sap>
  <interface>https://10.6.60.202/apis/servers/serverbc305be293d3/nics/nic-eth1</interface>
</output>
"""

# --- Transcoder Resources > Create a New Transcoder > Without Traffic Shaping
TRANSCODER_CREATE_WITHOUT_SHAPING = """\
<transcoder>
  <name>SD-4</name>
  <resolution>
    <width>720</width>
    <height>480</height>
  </resolution>
  <frameRate>30</frameRate>
  <videoBitrate>3000</videoBitrate>
  <gopSize>30</gopSize>
  <metadata>off</metadata>
  <audio>on</audio>
  <audioBitrate>256</audioBitrate>
  <videoType>avc</videoType>
  <qualityLevel>6</qualityLevel>
  <bFrame>2</bFrame>
  <enableIntraRefresh>on</enableIntraRefresh>
  <encodingProfile>performance</encodingProfile>
</transcoder>
"""

# --- Transcoder Resources > Create a New Transcoder > With Traffic Shaping --
# gopSize 3444 is outside the documented 0-1000 (so is bFrame 80): the seed's
# own example is refused with 1000.
TRANSCODER_CREATE_WITH_SHAPING = """\
<transcoder>
  <name>1000kbps</name>
  <resolutionMode>2</resolutionMode>
  <framerate>-1</framerate>
  <videoBitrate>1000</videoBitrate>
  <audioBitrate>60</audioBitrate>
  <gopSize>3444</gopSize>
  <metadata>on</metadata>
  <audio>on</audio>
  <videoType>hevc</videoType>
  <bFrame>80</bFrame>
  <enableIntraRefresh>on</enableIntraRefresh>
  <encodingProfile>quality</encodingProfile>
  <encoderType>software</encoderType>
  <useLegacyTranscoder>on</useLegacyTranscoder>
  <interleaveAdjustmentMs>1</interleaveAdjustmentMs>
  <jitterBufferMs>5</jitterBufferMs>
  <outputPacing>off</outputPacing>
  <outputPacingInterval>-1</outputPacingInterval>
  <shapingBitrate>100</shapingBitrate>
  <shapingMaxBitratePercent>80</shapingMaxBitratePercent>
  <shapingTargetBitratePercent>70</shapingTargetBitratePercent>
  <shapingVbvSizeMs>2000</shapingVbvSizeMs>
  <shapingBufferingIntervalMs>2260</shapingBufferingIntervalMs>
  <enablePcs>on</enablePcs>
</transcoder>
"""

# --- Transcoder Resources > Edit a Transcoder ------------------------------
TRANSCODER_EDIT = """\
<transcoder>
  <name>frank</name>
  <resolution>
    <width>800</width>
    <height>600</height>
  </resolution>
  <frameRate>0</frameRate>
  <videoBitrate>2000</videoBitrate>
  <gopSize>30</gopSize>
  <metadata>off</metadata>
  <audio>on</audio>
  <audioBitrate>128</audioBitrate>
  <videoType>avc</videoType>
  <qualityLevel>6</qualityLevel>
  <bFrame>2</bFrame>
  <enableIntraRefresh>on</enableIntraRefresh>
  <encodingProfile>performance</encodingProfile>
</transcoder>
"""

# --- Stream Resources > Create a New Stream --------------------------------
STREAM_CREATE = """\
<stream>
  <name>Stream 124</name>
  <auto_start>true</auto_start>
  <description>Stream Description</description>
  <input>https://10.1.40.89/apis/kraken/inputs/input-c769e651-b6a5-4547-94d5-f06bd2877a65</input>
  <transcoder>https://10.1.40.89/apis/kraken/transcoders/transcoder-9ff39a54-309c-4834-aa33-2b59549d0a1d</transcoder>
  <outputs>
    <output>https://10.1.40.89/apis/kraken/outputs/output-a87b141c-a4d2-4b04-bb20-d709b0b26225</output>
    <output>https://10.1.40.89/apis/kraken/outputs/output-ded3a62b-1a57-4352-a9bf-a336a97f4e15</output>
  </outputs>
  <metadatas>
    <metadata>https://10.65.11.209/apis/kraken/metadatas/metadata-e8b5a07d-4ca7-4651-8ae9-035e0849d235</metadata>
  </metadatas>
</stream>
"""
SEED_IDS_STREAM = {
    "input": "c769e651-b6a5-4547-94d5-f06bd2877a65",
    "transcoder": "9ff39a54-309c-4834-aa33-2b59549d0a1d",
    "output1": "a87b141c-a4d2-4b04-bb20-d709b0b26225",
    "output2": "ded3a62b-1a57-4352-a9bf-a336a97f4e15",
}
SEED_ID_METADATA = "e8b5a07d-4ca7-4651-8ae9-035e0849d235"

# --- Stream Resources > Edit, Start, or Stop a Stream > Edit a Stream ------
STREAM_EDIT = """\
<stream>
  <name>Stream 124</name>
  <description>Stream Description</description>
  <input>https://10.1.40.89/apis/kraken/inputs/input-c769e651-b6a5-4547-94d5-f06bd2877a65</input>
  <transcoder>https://10.1.40.89/apis/kraken/transcoders/transcoder-9ff39a54-309c-4834-aa33-2b59549d0a1d</transcoder>
  <outputs>
    <output>https://10.1.40.89/apis/kraken/outputs/output-a87b141c-a4d2-4b04-bb20-d709b0b26225</output>
    <output>https://10.1.40.89/apis/kraken/outputs/output-ded3a62b-1a57-4352-a9bf-a336a97f4e15</output>
  </outputs>
</stream>
"""
# (same ids as SEED_IDS_STREAM)

# --- Stream Resources > Edit, Start, or Stop a Stream > Starts a Stream -----
STREAM_START = """\
<stream>
  <state>start</state>
</stream>
"""

# --- Stream Resources > Edit, Start, or Stop a Stream > Stop a Stream -------
STREAM_STOP = """\
<stream>
  <state>stop</state>
</stream>
"""

# --- Stream Resources > Edit, Start, or Stop a Stream > Stream with Passthru
STREAM_EDIT_PASSTHRU = """\
<stream>
  <name>Stream with Passthru</name>
  <mode>passthru</mode>
  <auto_start>true</auto_start>
  <input>https://10.65.11.151/apis/kraken/inputs/input-ee8ff55d-161d-4d48-a2f5-1550610cd141</input>
  <passthru>https://10.65.11.151/apis/kraken/outputs/output-d730641f-6367-4d48-be65-4f365b086379</passthru>
  <transcoder>https://10.65.11.151/apis/kraken/transcoders/transcoder-e7b75426-65ee-4363-be70-e57b5569b61d</transcoder>
  <outputs>
    <output>https://10.65.11.151/apis/kraken/outputs/output-bfa36a21-3ceb-466d-b041-e00b18b9f517</output>
    <output>https://10.65.11.151/apis/kraken/outputs/output-d84bef04-9290-496e-8c3b-fa62be09ed43</output>
  </outputs>
</stream>
"""
SEED_IDS_PASSTHRU = {
    "input": "ee8ff55d-161d-4d48-a2f5-1550610cd141",
    "passthru": "d730641f-6367-4d48-be65-4f365b086379",
    "transcoder": "e7b75426-65ee-4363-be70-e57b5569b61d",
    "output1": "bfa36a21-3ceb-466d-b041-e00b18b9f517",
    "output2": "d84bef04-9290-496e-8c3b-fa62be09ed43",
}

# --- Configuration Resources > Create a New Resource -----------------------
CONFIGURATION_CREATE = """\
<configuration>
  <name>ConfigA</name>
</configuration>
"""

# --- Configuration Resources > Edit a Configuration > Load Configuration ----
CONFIGURATION_ACTIVATE = """\
<configuration>
  <activate>1</activate>
</configuration>
"""

# --- Configuration Resources > Edit a Configuration > Make Configuration the Default
CONFIGURATION_DEFAULT = """\
<configuration>
  <default>1</default>
</configuration>
"""

# --- Configuration Resources > Edit a Configuration > Load Configuration and Make Default
CONFIGURATION_ACTIVATE_AND_DEFAULT = """\
<configuration>
  <activate>1</activate>
  <default>1</default>
</configuration>
"""

ALL = {
    name: value
    for name, value in dict(globals()).items()
    if name.isupper() and isinstance(value, str) and value.lstrip().startswith("<")
}


def replace_ids(body, mapping):
    """``body`` with every seed id in ``mapping`` (seed id -> new id) replaced."""
    for old, new in mapping.items():
        assert old in body, f"seed id {old} not in body"
        body = body.replace(old, new)
    return body

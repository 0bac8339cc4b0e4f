// Bundled into static/vendor/uppy/uppy.min.js: only Uppy's core and its AWS S3 (multipart) plugin;
// the page draws its own progress UI (static/js/upload.js).
import Uppy from '@uppy/core'
import AwsS3 from '@uppy/aws-s3'

window.Uppy = { Uppy, AwsS3, VERSION: { core: Uppy.VERSION, awsS3: AwsS3.VERSION } }
